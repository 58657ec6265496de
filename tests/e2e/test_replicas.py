"""Replicas on several hosts, on PostgreSQL: two intake APIs and two intake workers, each pair
with a data folder of its own (two hosts) and the photos in one S3 store, one adapter API and
three adapter workers.

What a city's IT team relies on when it adds replicas: a report filed on one API shows its
photo from the other; every event is sent once (the relays and pushers of several workers
never take the same work), none is left behind; and SIGTERM lets a worker finish the CRM call
it holds before it exits, so a rolling restart neither loses nor doubles a case.
"""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from devtools.stack import free_ports, stop_process, wait_until_up
from shared.db import make_engine
from tests.databases import Databases, PerBackend, postgres_admin_url
from tests.e2e.conftest import FAST_RETRIES, Stack, start_stack
from tests.e2e.test_chaos import all_creations
from tests.helpers import MANAGE, POTHOLE, eventually
from tests.images import RED, encode, noise, with_corner
from tests.intake_service.helpers import multipart
from tests.s3_server import (  # noqa: F401 (the fixture `s3_server`)
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    S3Server,
    s3_server_fixture,
)

pytestmark = pytest.mark.e2e

REPORTS = 10
CREATE_SECONDS = 2.0
"""How long the CRM takes over a case in the SIGTERM phase: the worker holds it that long."""


@dataclass
class Replicas:
    stack: Stack
    """Intake API A, the adapter API, the simulator, one worker of each service."""
    intake_b: str
    folder: Path
    extra: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def spawn(self, name: str, command: list[str], **env: str) -> None:
        log = (self.stack.logs / f"{name}.log").open("ab")
        self.extra[name] = subprocess.Popen(
            command, env=self.env | env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def workers(self) -> dict[str, subprocess.Popen[bytes]]:
        own = self.stack.processes.processes
        return {
            "intake-worker": own["intake-worker"],
            "adapter-worker": own["adapter-worker"],
            **{n: p for n, p in self.extra.items() if "worker" in n},
        }

    def log_lines(self, name: str = "*") -> list[dict]:
        """The JSON log lines of the processes `name` matches, file by file in order."""
        lines = []
        for path in sorted(self.stack.logs.glob(f"{name}.log")):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    lines.append(json.loads(line))
        return lines


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory,
    database_templates: PerBackend[Databases],
    s3_server: S3Server,
) -> Iterator[Replicas]:
    bucket = "mam-replicas"
    s3 = s3_server.client()
    s3.create_bucket(Bucket=bucket)
    folder = tmp_path_factory.mktemp("replicas")
    settings = FAST_RETRIES | {
        "INTAKE_LOG_JSON": "true",
        "ADAPTER_LOG_JSON": "true",
        "INTAKE_PHOTO_STORE": "s3",
        "INTAKE_S3_ENDPOINT_URL": s3_server.url,
        "INTAKE_S3_BUCKET": bucket,
        "INTAKE_S3_REGION": REGION,
        "INTAKE_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "INTAKE_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    }
    for stack in start_stack(
        "postgresql",
        folder,
        separate_workers=True,
        settings=settings,
        template=database_templates("postgresql"),
    ):
        [port_b] = free_ports(1)
        replicas = Replicas(
            stack, f"http://127.0.0.1:{port_b}", folder, env=stack.processes.env
        )
        python = sys.executable
        host_b = {"MAM_DATA_DIR": str(folder / "data-b")}
        replicas.spawn(
            "intake-b",
            [python, "-m", "intake_service", "api", "--port", str(port_b)],
            **host_b,
        )
        replicas.spawn(
            "intake-worker-b", [python, "-m", "intake_service", "worker"], **host_b
        )
        for n in (2, 3):
            replicas.spawn(
                f"adapter-worker-{n}", [python, "-m", "crm_adapter", "worker"]
            )
        log_b = stack.logs / "intake-b.log"
        try:
            wait_until_up(
                replicas.intake_b + "/readyz",
                replicas.extra["intake-b"],
                log_tail=functools.partial(tail, log_b),
            )
            yield replicas
        finally:
            for process in replicas.extra.values():
                stop_process(process)
    for key in [
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    ]:
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)
    s3.close()


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def photo(index: int) -> tuple[str, bytes, str]:
    image = with_corner((320, 240), RED) if index % 2 else noise((320, 240))
    return (f"street-{index}.jpg", encode(image, "JPEG"), "image/jpeg")


async def file(intake: httpx.AsyncClient, index: int) -> dict:
    report = POTHOLE | {
        "location": {"lat": 51.1 + index * 0.002, "lon": 17.03},
        "description": f"Zapadnięta studzienka numer {index}",
    }
    created = await intake.post(
        "/v1/reports", files=multipart(report, photo(index)), timeout=30
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def statuses(clients: list[httpx.AsyncClient], ids: list[str]) -> list[str]:
    found = []
    for index, report_id in enumerate(ids):
        answer = await clients[index % 2].get(f"/v1/reports/{report_id}")
        found.append(answer.json()["status"])
    return found


# PostgreSQL only: replicas on several hosts share a database server, which SQLite is not.
if postgres_admin_url() is not None:

    async def test_replicas_share_photos_send_each_event_once_and_stop_gracefully(
        replicas: Replicas,
    ):
        stack = replicas.stack
        async with (
            httpx.AsyncClient(base_url=stack.intake) as intake_a,
            httpx.AsyncClient(base_url=replicas.intake_b) as intake_b,
            stack.crm_client() as crm,
            httpx.AsyncClient(base_url=stack.adapter, headers=MANAGE) as admin,
        ):
            apis = [intake_a, intake_b]

            # A rolling restart: SIGTERM reaches the adapter's workers while one of them
            # is in the middle of the CRM's slow create.
            slow = {
                "rules": [
                    {
                        "kind": "latency",
                        "latency_seconds": CREATE_SECONDS,
                        "operations": ["create"],
                    }
                ]
            }
            assert (await crm.put("/_sim/faults", json=slow)).status_code == 200
            first = await file(intake_b, 0)

            async def create_under_way():
                injected = (await crm.get("/_sim/faults")).json()["injected"]
                return injected.get("latency")

            await eventually(create_under_way, what="a create at the CRM")
            adapter_workers = {
                n: p for n, p in replicas.workers().items() if n.startswith("adapter")
            }
            for process in adapter_workers.values():
                process.terminate()
            for name, process in adapter_workers.items():
                assert await asyncio.to_thread(process.wait, 30) == 0, name
            cases = (await crm.get("/api/cases")).json()
            assert [c["external_ref"] for c in cases] == [first["id"]]
            # The create under way finished after SIGTERM, in the worker holding it,
            # before it exited; no worker had to give up a step.
            finished = [
                [line["event"] for line in replicas.log_lines(name)]
                for name in adapter_workers
            ]
            holding = [
                events
                for events in finished
                if "case.created" in events
                and events.index("worker.stopping") < events.index("case.created")
            ]
            assert len(holding) == 1, finished
            assert not any("loops.drain_timed_out" in events for events in finished)
            assert (
                await crm.put("/_sim/faults", json={"rules": []})
            ).status_code == 200

            # The workers come back; reports are filed on both APIs.
            stack.processes.restart("adapter-worker")
            python = sys.executable
            for n in (2, 3):
                replicas.spawn(
                    f"adapter-worker-{n}", [python, "-m", "crm_adapter", "worker"]
                )
            reports = [first] + [await file(apis[i % 2], i) for i in range(1, REPORTS)]
            ids = [r["id"] for r in reports]

            # Each photo is served by the other API, from the shared store.
            for index, report in enumerate(reports):
                [shown] = report["photos"]
                here = await apis[(index + 1) % 2].get(shown["url"])
                other = await apis[index % 2].get(shown["url"])
                assert here.status_code == other.status_code == 200
                assert here.headers["content-type"] == "image/jpeg"
                assert here.content == other.content

            async def all_are(status: str):
                found = await statuses(apis, ids)
                return found if set(found) == {status} else None

            await eventually(lambda: all_are("submitted"), within=60, what="submitted")
            cases = (await crm.get("/api/cases")).json()
            assert sorted(c["external_ref"] for c in cases) == sorted(ids)
            for case in cases:
                changed = await crm.post(
                    f"/api/cases/{case['case_id']}/status",
                    json={"status": "IN_PROGRESS"},
                )
                assert changed.status_code == 200
            await eventually(lambda: all_are("in_progress"), within=60, what="changes")

            for index, report_id in enumerate(ids):
                report = (await apis[index % 2].get(f"/v1/reports/{report_id}")).json()
                history = [h["status"] for h in report["status_history"]]
                assert history == ["received", "submitted", "in_progress"], history

            # Every case created once: no attempt repeated by another worker.
            creations = await all_creations(admin)
            assert sorted(creations) == sorted(ids)
            for case_id in creations.values():
                detail = (await admin.get(f"/admin/deliveries/{case_id}")).json()
                assert [a["outcome"] for a in detail["log"]] == ["delivered"], detail

        # Nothing waits in either outbox, and each event went out exactly once.
        sent = Counter(
            line["event_id"]
            for line in replicas.log_lines()
            if line.get("event") == "outbox.sent"
        )
        assert sent
        assert set(sent.values()) == {1}, sent.most_common(3)
        for url in (stack.databases.intake, stack.databases.adapter):
            engine = make_engine(url)
            try:
                async with engine.connect() as connection:
                    rows = list(
                        await connection.execute(
                            text("SELECT id, status FROM outbox_events")
                        )
                    )
            finally:
                await engine.dispose()
            assert rows
            assert {status for _, status in rows} == {"sent"}, rows
            assert {str(event_id) for event_id, _ in rows} <= set(sent)

        # And every worker stops cleanly on SIGTERM.
        for name, process in replicas.workers().items():
            process.terminate()
            assert await asyncio.to_thread(process.wait, 30) == 0, name
