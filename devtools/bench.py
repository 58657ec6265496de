"""`make bench`: how fast a report travels, and how much memory the processes hold.

Starts the real stack on free loopback ports with fresh SQLite files (or the PostgreSQL
databases named by INTAKE_DATABASE_URL / ADAPTER_DATABASE_URL), files reports over HTTP and
measures, per report:

- `POST /v1/reports` answer time;
- report accepted → case exists in the CRM (relay, adapter, pusher);
- CRM status change → the resident's notification is readable (webhook, adapter, relay, intake).

Latencies are observed by polling every 5 ms, so they carry up to 5 ms of that.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import functools
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import httpx

from devtools.stack import LocalStack, Ports, free_ports, running
from shared.settings import DEV_SECRETS

POLL = 0.005
REPORT = {
    "category": "pothole",
    "location": {"lat": 51.1097, "lon": 17.0326},
    "description": "Benchmark pothole",
}


async def _until(
    client: httpx.AsyncClient,
    url: str,
    done: Callable[[httpx.Response], bool],
    headers: dict[str, str] | None = None,
) -> float:
    """Seconds until GET `url` satisfies `done` (30 s at most)."""
    start = time.perf_counter()
    while time.perf_counter() - start < 30.0:
        response = await client.get(url, headers=headers)
        response.raise_for_status()
        if done(response):
            return time.perf_counter() - start
        await asyncio.sleep(POLL)
    raise TimeoutError(url)


def _newest_is_for(response: httpx.Response, *, report_id: str) -> bool:
    items = response.json()["items"]
    return bool(items) and items[0]["report_id"] == report_id


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _code_mailed_to(mail_dir: Path, address: str) -> str:
    """The code in the newest mail to `address` that the folder mailer wrote."""
    for path in sorted(mail_dir.glob("*.eml"), reverse=True):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if mail["To"] == address and isinstance(mail, EmailMessage):
            found = re.search(r"^\s*(\d{6})\s*$", mail.get_content(), re.MULTILINE)
            if found:
                return found.group(1)
    raise LookupError(f"no code mailed in {mail_dir}")


async def measure(stack: LocalStack, count: int, mail_dir: Path) -> dict[str, object]:
    crm_headers = {"Authorization": f"Bearer {DEV_SECRETS['crm_api_key']}"}
    async with (
        httpx.AsyncClient(base_url=stack.url("intake")) as intake,
        httpx.AsyncClient(
            base_url=stack.url("crm-simulator"), headers=crm_headers
        ) as crm,
    ):
        address = f"bench-{time.time_ns()}@example.org"
        password = "benchmark-password-1"
        await intake.post(
            "/v1/accounts",
            json={
                "email": address,
                "password": password,
                "display_name": "Bench",
                "lang": "en",
            },
        )
        # Only a verified address hears about its reports: read the code from the mail.
        await intake.post(
            "/v1/accounts/verification",
            json={"email": address, "code": _code_mailed_to(mail_dir, address)},
        )
        token = (
            await intake.post(
                "/v1/auth/token", json={"email": address, "password": password}
            )
        ).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        accept, to_crm, to_resident = [], [], []
        for _ in range(count):
            start = time.perf_counter()
            created = await intake.post("/v1/reports", json=REPORT, headers=auth)
            accept.append(time.perf_counter() - start)
            report_id = created.json()["id"]
            to_crm.append(
                await _until(
                    crm, f"/api/cases?external_ref={report_id}", lambda r: r.json()
                )
            )
            case_id = (await crm.get(f"/api/cases?external_ref={report_id}")).json()[0][
                "case_id"
            ]
            start = time.perf_counter()
            await crm.post(
                f"/api/cases/{case_id}/status", json={"status": "IN_PROGRESS"}
            )
            changed = time.perf_counter() - start
            to_resident.append(
                changed
                + await _until(
                    intake,
                    "/v1/me/notifications?limit=1",
                    functools.partial(_newest_is_for, report_id=report_id),
                    headers=auth,
                )
            )
    return {
        "reports": count,
        "post_report": _summary(accept),
        "report_to_crm_case": _summary(to_crm),
        "crm_change_to_notification": _summary(to_resident),
        "rss_mib": {
            name: round(_rss_mib(p.pid), 1) for name, p in stack.processes.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench")
    parser.add_argument("--reports", type=int, default=100)
    args = parser.parse_args()
    intake, adapter, crm = free_ports(3)
    ports = Ports(intake=intake, adapter=adapter, crm=crm)
    with tempfile.TemporaryDirectory() as folder:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MAM_", "CRM_SIM_"))
        }
        env["MAM_DATA_DIR"] = folder
        env.setdefault("INTAKE_LOG_LEVEL", "WARNING")
        env.setdefault("ADAPTER_LOG_LEVEL", "WARNING")
        env["CRM_SIM_LOG_LEVEL"] = "WARNING"
        with running(ports, env, log_dir=Path(folder) / "logs") as stack:
            result = asyncio.run(measure(stack, args.reports, Path(folder) / "mail"))
    database = (
        "postgresql"
        if "postgresql" in os.environ.get("INTAKE_DATABASE_URL", "")
        else "sqlite"
    )
    result["database"] = database
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
