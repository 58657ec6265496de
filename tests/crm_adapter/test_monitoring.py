"""What operators watch: due times, overdue cases, the case list, per-unit figures, /metrics."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid

import httpx
import pytest

from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.deliveries.pusher import CasePusher
from devtools.stack import free_ports
from shared.contracts import (
    DEFAULT_RESOLUTION_TARGET,
    Envelope,
    GeoPoint,
    ReportSubmittedV1,
    ResolutionTarget,
)
from shared.db import make_engine, make_sessionmaker
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from shared.signing import Signer
from tests.crm_adapter.helpers import samples
from tests.helpers import MANAGE, READ
from tests.signed import reopen_event

CASES = "/admin/cases"
STATS = "/admin/stats"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


async def submit(
    adapter: httpx.AsyncClient,
    *,
    category: str = "pothole",
    submitted_at: dt.datetime | None = None,
    target: ResolutionTarget | None = None,
    number: str = "WRO-2026-000001",
) -> uuid.UUID:
    """A report handed over by intake, as its relay would; returns its id."""
    report_id = uuid.uuid4()
    event = ReportSubmittedV1(
        report_id=report_id,
        number=number,
        category=category,
        location=GeoPoint(lat=51.1097, lon=17.0326),
        description="Głęboka dziura",
        submitted_at=submitted_at or dt.datetime.now(dt.UTC),
        resolution_target=target or DEFAULT_RESOLUTION_TARGET,
    )
    envelope = Envelope(
        occurred_at=dt.datetime.now(dt.UTC), source="intake", event=event
    )
    payload = envelope.model_dump(mode="json")
    if target is None:
        del payload["event"]["resolution_target"]  # as an older intake sends it
    body = json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        **Signer(DEV_SECRETS["intake_to_adapter"]).headers(str(envelope.id), body),
    }
    response = await adapter.post("/internal/events", content=body, headers=headers)
    assert response.status_code == 202, response.text
    return report_id


async def crm_change(
    adapter: httpx.AsyncClient,
    report_id: uuid.UUID,
    status: str,
    *,
    at: dt.datetime,
    version: int,
) -> None:
    """The CRM's signed webhook: the case of `report_id` changed to `status` at `at`."""
    body = json.dumps(
        {
            "update_id": str(uuid.uuid4()),
            "case_id": f"CRM-{report_id.hex[:8]}",
            "external_ref": str(report_id),
            "status": status,
            "note": None,
            "version": version,
            "changed_at": at.isoformat(),
        }
    ).encode()
    headers = {
        "content-type": "application/json",
        **Signer(DEV_SECRETS["crm_webhooks"]).headers(str(uuid.uuid4()), body),
    }
    response = await adapter.post("/webhooks/crm", content=body, headers=headers)
    assert response.status_code == 202, response.text


async def case_of(adapter: httpx.AsyncClient, report_id: uuid.UUID) -> dict:
    response = await adapter.get(f"{CASES}/{report_id}", headers=READ)
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


async def listed(adapter: httpx.AsyncClient, **params: str) -> list[dict]:
    response = await adapter.get(CASES, params=params, headers=READ)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    items: list[dict] = response.json()["items"]
    return items


def at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


class TestDueTime:
    async def test_a_short_target_runs_on_the_clock(self, adapter):
        saturday_night = utc(2026, 3, 7, 22)
        report_id = await submit(
            adapter,
            category="traffic_signal_fault",
            submitted_at=saturday_night,
            target=ResolutionTarget(hours=4),
        )
        case = await case_of(adapter, report_id)
        assert at(case["due_at"]) == utc(2026, 3, 8, 2)

    async def test_a_long_target_counts_polish_working_days(self, adapter):
        # Thursday before Easter, 12:00 in Warsaw: Friday, then Easter Monday is skipped.
        report_id = await submit(
            adapter,
            submitted_at=utc(2026, 4, 2, 10),
            target=ResolutionTarget(working_days=2),
        )
        case = await case_of(adapter, report_id)
        assert at(case["due_at"]) == utc(2026, 4, 7, 10)

    async def test_an_event_without_a_target_gets_five_working_days(self, adapter):
        report_id = await submit(adapter, submitted_at=utc(2026, 3, 2, 9))
        case = await case_of(adapter, report_id)
        assert at(case["due_at"]) == utc(2026, 3, 9, 9)


class TestOverdue:
    async def test_open_cases_past_their_due_time_and_only_they(self, adapter):
        now = dt.datetime.now(dt.UTC)
        late = await submit(
            adapter,
            category="overflowing_container",
            submitted_at=now - dt.timedelta(hours=30),
            target=ResolutionTarget(hours=24),
        )
        in_time = await submit(
            adapter,
            category="overflowing_container",
            submitted_at=now - dt.timedelta(hours=2),
            target=ResolutionTarget(hours=24),
        )
        closed = await submit(
            adapter,
            category="overflowing_container",
            submitted_at=now - dt.timedelta(hours=50),
            target=ResolutionTarget(hours=24),
        )
        await crm_change(adapter, closed, "DONE", at=now, version=2)

        assert [c["report_id"] for c in await listed(adapter, overdue="true")] == [
            str(late)
        ]
        assert {c["report_id"] for c in await listed(adapter, overdue="false")} == {
            str(in_time),
            str(closed),
        }
        flags = {c["report_id"]: c["overdue"] for c in await listed(adapter)}
        assert flags == {str(late): True, str(in_time): False, str(closed): False}

    async def test_a_reopened_case_is_open_again_and_late(self, adapter):
        now = dt.datetime.now(dt.UTC)
        report_id = await submit(
            adapter,
            submitted_at=now - dt.timedelta(days=20),
            target=ResolutionTarget(working_days=5),
        )
        done_at = now - dt.timedelta(days=15)
        await crm_change(adapter, report_id, "DONE", at=done_at, version=2)
        case = await case_of(adapter, report_id)
        assert (case["status"], at(case["closed_at"]), case["overdue"]) == (
            "resolved",
            done_at,
            False,
        )
        # Rejected after being resolved: still closed since the first closing.
        await crm_change(adapter, report_id, "DUPLICATE", at=now, version=3)
        case = await case_of(adapter, report_id)
        assert (case["status"], at(case["closed_at"])) == ("rejected", done_at)

        body, headers = reopen_event(report_id)
        await adapter.post("/internal/events", content=body, headers=headers)
        case = await case_of(adapter, report_id)
        assert (case["status"], case["closed_at"], case["overdue"]) == (
            "reopened",
            None,
            True,
        )


class TestCaseList:
    async def test_needs_an_operator_key(self, adapter):
        for headers in ({}, {"X-API-Key": "mam_op_not-a-key"}):
            response = await adapter.get(CASES, headers=headers)
            assert response.status_code == 401
            assert (
                response.json()["type"] == "urn:mam:problem:operator-not-authenticated"
            )
        assert (await adapter.get(CASES, headers=MANAGE)).status_code == 200

    async def test_each_case_says_what_an_operator_needs(self, adapter):
        submitted = utc(2026, 3, 2, 9)
        report_id = await submit(
            adapter, submitted_at=submitted, number="WRO-2026-000042"
        )
        await crm_change(adapter, report_id, "ASSIGNED", at=submitted, version=2)
        [case] = await listed(adapter)
        assert case == {
            "id": case["id"],
            "report_id": str(report_id),
            "report_number": "WRO-2026-000042",
            "category": "pothole",
            "unit": "zdium",
            "connector": "rest_json",
            "state": "created",
            "crm_case_id": f"CRM-{report_id.hex[:8]}",
            "crm_status": "ASSIGNED",
            "status": "in_progress",
            "submitted_at": case["submitted_at"],
            "due_at": case["due_at"],
            "overdue": True,
            "closed_at": None,
            "attempts": 0,
            "next_attempt_at": case["next_attempt_at"],
            "last_error": None,
            "failing_since": None,
            "delay": None,
            "updated_at": case["updated_at"],
            "links": {
                "self": f"/admin/cases/{case['id']}",
                "deliveries": f"/admin/cases/{case['id']}/deliveries",
            },
        }
        assert at(case["submitted_at"]) == submitted
        assert at(case["due_at"]) == utc(2026, 3, 9, 9)
        # The same case by its own id, and by its report's id.
        assert await case_of(adapter, uuid.UUID(case["id"])) == case
        assert await case_of(adapter, report_id) == case

    async def test_an_unknown_case_is_a_problem(self, adapter):
        response = await adapter.get(
            f"{CASES}/{uuid.uuid4()}", headers=READ | {"Accept-Language": "pl"}
        )
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:mam:problem:case-not-found"
        assert response.json()["title"] == "Nie znaleziono sprawy"

    async def test_filters(self, adapter):
        now = dt.datetime.now(dt.UTC)
        pothole = await submit(
            adapter,
            submitted_at=now - dt.timedelta(days=3),
            number="WRO-2026-000001",
        )
        container = await submit(
            adapter,
            category="overflowing_container",
            submitted_at=now - dt.timedelta(days=2),
            number="WRO-2026-000002",
        )
        unroutable = await submit(
            adapter,
            category="noise_complaint",
            submitted_at=now - dt.timedelta(days=1),
            number="WRO-2026-000003",
        )
        await crm_change(adapter, container, "DONE", at=now, version=2)

        async def ids(**params: str) -> list[str]:
            return [c["report_id"] for c in await listed(adapter, **params)]

        assert await ids() == [str(unroutable), str(container), str(pothole)]
        assert await ids(unit="zdium") == [str(pothole)]
        assert await ids(unit="ekosystem") == [str(container)]
        assert await ids(category="noise_complaint") == [str(unroutable)]
        assert await ids(status="resolved") == [str(container)]
        assert await ids(status="received") == [str(unroutable), str(pothole)]
        assert await ids(state="unroutable") == [str(unroutable)]
        assert await ids(state="created") == [str(container)]
        assert await ids(state="pending") == [str(pothole)]
        assert await ids(state="dead") == []
        since = (now - dt.timedelta(days=2, hours=1)).isoformat()
        until = (now - dt.timedelta(days=1, hours=1)).isoformat()
        assert await ids(since=since) == [str(unroutable), str(container)]
        assert await ids(until=until) == [str(container), str(pothole)]
        assert await ids(since=since, until=until) == [str(container)]
        assert await ids(report_id=str(pothole)) == [str(pothole)]
        assert await ids(number="WRO-2026-000002") == [str(container)]
        assert await ids(unit="zdium", status="resolved") == []

    async def test_wrong_filters_are_problems(self, adapter):
        for params, problem in [
            ({"status": "lost"}, "validation-failed"),
            ({"state": "gone"}, "validation-failed"),
            ({"since": "1700000000"}, "validation-failed"),
            (
                {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
                "empty-period",
            ),
            ({"cursor": "not-a-cursor"}, "invalid-cursor"),
        ]:
            response = await adapter.get(CASES, params=params, headers=READ)
            assert response.status_code == 422, params
            assert response.json()["type"] == f"urn:mam:problem:{problem}"

    async def test_keyset_pages_newest_first(self, adapter):
        start = utc(2026, 3, 2, 9)
        # Two cases share a submission time: the id breaks the tie, none is lost.
        times = [start, start, *(start + dt.timedelta(minutes=m) for m in (1, 2, 3))]
        report_ids = [await submit(adapter, submitted_at=t) for t in times]

        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            response = await adapter.get(CASES, params=params, headers=READ)
            assert response.status_code == 200
            page = response.json()
            pages += 1
            seen += [c["report_id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        assert len(seen) == len(set(seen)) == 5
        assert set(seen) == {str(r) for r in report_ids}
        assert seen[:3] == [str(r) for r in reversed(report_ids[2:])]


def figures(
    received: int,
    open_: int,
    overdue: int,
    resolved: int,
    rejected: int,
    median: float | None,
    share: float | None,
) -> dict[str, object]:
    return {
        "received": received,
        "open": open_,
        "overdue": overdue,
        "resolved": resolved,
        "rejected": rejected,
        "median_resolution_hours": median,
        "within_target_share": share,
    }


class TestStats:
    @pytest.fixture
    async def january(self, adapter) -> dict[str, str]:
        """Cases submitted in the first week of January 2026, with known closing times."""
        monday = utc(2026, 1, 5, 8)  # 09:00 in Warsaw; Tuesday is Epiphany
        pothole = ResolutionTarget(working_days=5)  # due Tuesday 13 January
        signal = ResolutionTarget(hours=4)
        version = iter(range(2, 100))

        async def closed(
            category: str, target: ResolutionTarget, status: str, hours: float
        ) -> None:
            report_id = await submit(
                adapter, category=category, submitted_at=monday, target=target
            )
            closed_at = monday + dt.timedelta(hours=hours)
            await crm_change(
                adapter, report_id, status, at=closed_at, version=next(version)
            )

        await closed("pothole", pothole, "DONE", 10)
        await closed("pothole", pothole, "DONE", 30)
        await submit(adapter, submitted_at=monday, target=pothole)  # open, late
        await closed("traffic_signal_fault", signal, "DONE", 2)
        await closed("traffic_signal_fault", signal, "CANNOT_FIX", 6)  # late
        await submit(
            adapter,
            category="overflowing_container",
            submitted_at=monday + dt.timedelta(days=1),
            target=ResolutionTarget(hours=24),
        )
        await submit(adapter, category="noise_complaint", submitted_at=monday)
        # Outside the window, just before it and at its (exclusive) end.
        await submit(adapter, submitted_at=utc(2026, 1, 4, 23, 59))
        await submit(adapter, submitted_at=utc(2026, 1, 12))
        return {"since": "2026-01-05T00:00:00Z", "until": "2026-01-12T00:00:00Z"}

    async def test_per_unit_and_category(self, adapter, january):
        response = await adapter.get(STATS, params=january, headers=READ)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (at(body["since"]), at(body["until"])) == (
            utc(2026, 1, 5),
            utc(2026, 1, 12),
        )
        assert body["units"] == [
            {
                "unit": "ekosystem",
                **figures(1, 1, 1, 0, 0, None, None),
                "categories": [
                    {
                        "category": "overflowing_container",
                        **figures(1, 1, 1, 0, 0, None, None),
                    }
                ],
            },
            {
                "unit": "zdium",
                # Closed after 2, 6, 10 and 30 hours; the 6 hours were over 4.
                **figures(5, 1, 1, 3, 1, 8.0, 0.75),
                "categories": [
                    {"category": "pothole", **figures(3, 1, 1, 2, 0, 20.0, 1.0)},
                    {
                        "category": "traffic_signal_fault",
                        **figures(2, 0, 0, 1, 1, 4.0, 0.5),
                    },
                ],
            },
            {
                "unit": None,
                **figures(1, 1, 1, 0, 0, None, None),
                "categories": [
                    {
                        "category": "noise_complaint",
                        **figures(1, 1, 1, 0, 0, None, None),
                    }
                ],
            },
        ]

    @pytest.mark.parametrize(
        ("params", "headers"),
        [({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})],
        ids=["format", "accept"],
    )
    async def test_as_csv(self, adapter, january, params, headers):
        response = await adapter.get(
            STATS, params=january | params, headers=READ | headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            'attachment; filename="sla-20260105-20260112.csv"'
        )
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows == [
            [
                "unit",
                "category",
                "received",
                "open",
                "overdue",
                "resolved",
                "rejected",
                "median_resolution_hours",
                "within_target_share",
            ],
            ["ekosystem", "", "1", "1", "1", "0", "0", "", ""],
            ["ekosystem", "overflowing_container", "1", "1", "1", "0", "0", "", ""],
            ["zdium", "", "5", "1", "1", "3", "1", "8.0", "0.75"],
            ["zdium", "pothole", "3", "1", "1", "2", "0", "20.0", "1.0"],
            ["zdium", "traffic_signal_fault", "2", "0", "0", "1", "1", "4.0", "0.5"],
            ["", "", "1", "1", "1", "0", "0", "", ""],
            ["", "noise_complaint", "1", "1", "1", "0", "0", "", ""],
        ]

    async def test_the_last_90_days_by_default(self, adapter):
        now = dt.datetime.now(dt.UTC)
        await submit(adapter, submitted_at=now - dt.timedelta(days=89))
        await submit(adapter, submitted_at=now - dt.timedelta(days=91))
        response = await adapter.get(STATS, headers=READ)
        assert response.status_code == 200
        body = response.json()
        assert at(body["until"]) - at(body["since"]) == dt.timedelta(days=90)
        assert [(u["unit"], u["received"]) for u in body["units"]] == [("zdium", 1)]

    async def test_an_empty_period_is_a_problem(self, adapter):
        response = await adapter.get(
            STATS,
            params={"since": "2026-01-12T00:00:00Z", "until": "2026-01-05T00:00:00Z"},
            headers=READ,
        )
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:empty-period"

    async def test_needs_an_operator_key(self, adapter):
        assert (await adapter.get(STATS)).status_code == 401


PER_UNIT = {
    "mam_adapter_cases_open",
    "mam_adapter_cases_overdue",
    "mam_adapter_dead_deliveries",
}


class TestMetrics:
    async def test_counted_from_the_database_at_each_scrape(
        self, adapter, adapter_settings
    ):
        empty = samples((await adapter.get("/metrics")).text)
        assert empty[("mam_adapter_cases_open", (("unit", "czk"),))] == 0
        assert empty[("mam_adapter_dead_deliveries", (("unit", "zdium"),))] == 0

        # A case the CRM can never take (nothing listens there, no time left to retry).
        doomed = await submit(adapter, category="missed_collection")
        await push_to_nowhere(adapter_settings.database_url)
        assert (await case_of(adapter, doomed))["state"] == "dead"

        now = dt.datetime.now(dt.UTC)
        late = ResolutionTarget(hours=1)
        for _ in range(2):
            await submit(adapter, submitted_at=now - dt.timedelta(hours=2), target=late)
        done = await submit(adapter, submitted_at=now - dt.timedelta(hours=2))
        await crm_change(adapter, done, "DONE", at=now, version=2)
        await submit(adapter, category="fallen_tree")
        await submit(adapter, category="noise_complaint")

        response = await adapter.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        found = samples(response.text)

        def cases(state: str, status: str) -> float:
            return found[("mam_adapter_cases", (("state", state), ("status", status)))]

        assert cases("pending", "received") == 3
        assert cases("created", "resolved") == 1
        assert cases("unroutable", "received") == 1
        assert cases("dead", "received") == 1
        by_unit = {
            (name, labels[0][1]): value
            for (name, labels), value in found.items()
            if name in PER_UNIT
        }
        assert by_unit == {
            ("mam_adapter_cases_open", "czk"): 1,
            ("mam_adapter_cases_open", "ekosystem"): 1,
            ("mam_adapter_cases_open", "zdium"): 2,
            ("mam_adapter_cases_open", ""): 1,
            ("mam_adapter_cases_overdue", "czk"): 0,
            ("mam_adapter_cases_overdue", "ekosystem"): 0,
            ("mam_adapter_cases_overdue", "zdium"): 2,
            ("mam_adapter_cases_overdue", ""): 0,
            ("mam_adapter_dead_deliveries", "czk"): 0,
            ("mam_adapter_dead_deliveries", "ekosystem"): 1,
            ("mam_adapter_dead_deliveries", "zdium"): 0,
        }


async def push_to_nowhere(database_url: str) -> None:
    """Run the case pusher once against a CRM address where nothing listens, with no
    retry budget: each pending case becomes dead."""
    [port] = free_ports(1)
    engine = make_engine(database_url)
    try:
        async with httpx.AsyncClient() as client:
            connector = RestJsonConnector(
                client=client,
                base_url=f"http://127.0.0.1:{port}",
                api_key=DEV_SECRETS["crm_api_key"],
                timeout=5,
            )
            pusher = CasePusher(
                sessionmaker=make_sessionmaker(engine),
                connectors={connector.name: connector},
                backoff=Backoff(budget=dt.timedelta(0)),
                lease=dt.timedelta(seconds=30),
            )
            await pusher.run_once()
    finally:
        await engine.dispose()
