"""Operators' case list as a CSV file: the columns of a spreadsheet, the list's filters,
cells that never run as formulas, and a file streamed in batches that loses no case."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest

from crm_adapter.deliveries.delays import DelayTeller
from crm_adapter.monitoring import export
from tests.crm_adapter.fake_crm import Answer
from tests.crm_adapter.helpers import pusher
from tests.crm_adapter.test_monitoring import crm_change, listed, submit, utc
from tests.helpers import READ

EXPORT = "/admin/cases.csv"

HEADER = [
    "case_id",
    "report_id",
    "report_number",
    "category",
    "unit",
    "connector",
    "crm_case_id",
    "crm_status",
    "status",
    "delivery_state",
    "attempts",
    "last_error",
    "failing_since",
    "delay",
    "submitted_at",
    "created_at",
    "due_at",
    "overdue",
    "closed_at",
    "updated_at",
]


async def exported(adapter, **params: str) -> list[dict[str, str]]:
    """The file's rows, by column, after checking it is a spreadsheet's CSV file."""
    response = await adapter.get(EXPORT, params=params, headers=READ)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="cases-')
    assert disposition.endswith('.csv"')
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


def at(value: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class TestCaseExport:
    async def test_needs_an_operator_key(self, adapter):
        response = await adapter.get(EXPORT)
        assert response.status_code == 401
        assert response.json()["type"] == "urn:mam:problem:operator-not-authenticated"

    async def test_each_row_says_what_the_list_says(self, adapter, sessionmaker):
        submitted = utc(2026, 3, 2, 9)
        in_crm = await submit(adapter, submitted_at=submitted, number="WRO-2026-000042")
        await crm_change(adapter, in_crm, "ASSIGNED", at=submitted, version=2)
        refused = await submit(
            adapter, submitted_at=submitted + dt.timedelta(hours=1), number="WRO-2026-7"
        )
        await pusher(sessionmaker, Answer(422)).run_once()
        notice = dt.timedelta(minutes=30)
        teller = DelayTeller(sessionmaker=sessionmaker, notice_after=notice)
        assert await teller.run_once() == 1

        rows = await exported(adapter)
        listed_cases = await listed(adapter)
        assert [r["report_id"] for r in rows] == [c["report_id"] for c in listed_cases]
        for row, case in zip(rows, listed_cases, strict=True):
            assert row["case_id"] == case["id"]
            assert row["report_number"] == case["report_number"]
            assert (row["category"], row["unit"], row["connector"]) == (
                case["category"],
                case["unit"],
                case["connector"],
            )
            assert (row["status"], row["delivery_state"]) == (
                case["status"],
                case["state"],
            )
            assert row["crm_case_id"] == (case["crm_case_id"] or "")
            assert row["crm_status"] == (case["crm_status"] or "")
            assert int(row["attempts"]) == case["attempts"]
            assert row["last_error"] == (case["last_error"] or "")
            assert row["delay"] == (case["delay"] or "")
            assert row["overdue"] == ("true" if case["overdue"] else "false")
            for name in ("failing_since", "submitted_at", "due_at", "closed_at"):
                assert at(row[name]) == at(case[name] or ""), name
            assert at(row["updated_at"]) == at(case["updated_at"])

        by_report = {r["report_id"]: r for r in rows}
        dead = by_report[str(refused)]
        assert (dead["delivery_state"], dead["attempts"], dead["delay"]) == (
            "dead",
            "1",
            "dead",
        )
        assert dead["last_error"].startswith("HTTP 422")
        assert at(dead["failing_since"]) is not None
        assert at(dead["created_at"]) is not None
        assigned = by_report[str(in_crm)]
        assert (assigned["status"], assigned["crm_status"], assigned["overdue"]) == (
            "in_progress",
            "ASSIGNED",
            "true",
        )
        assert (assigned["report_number"], assigned["delay"]) == (
            "WRO-2026-000042",
            "",
        )

    async def test_the_filters_of_the_list(self, adapter):
        now = dt.datetime.now(dt.UTC)
        pothole = await submit(adapter, submitted_at=now - dt.timedelta(days=3))
        container = await submit(
            adapter,
            category="overflowing_container",
            submitted_at=now - dt.timedelta(days=2),
        )
        await submit(
            adapter, category="noise_complaint", submitted_at=now - dt.timedelta(days=1)
        )
        await crm_change(adapter, container, "DONE", at=now, version=2)
        since = (now - dt.timedelta(days=2, hours=1)).isoformat()
        for params in [
            {},
            {"unit": "zdium"},
            {"category": "noise_complaint"},
            {"status": "resolved"},
            {"state": "unroutable"},
            {"state": "dead"},
            {"overdue": "false"},
            {"since": since},
            {"report_id": str(pothole)},
            {"number": "WRO-2026-000001"},
        ]:
            rows = await exported(adapter, **params)
            expected = [c["report_id"] for c in await listed(adapter, **params)]
            assert [r["report_id"] for r in rows] == expected, params
        assert [r["report_id"] for r in await exported(adapter, unit="zdium")] == [
            str(pothole)
        ]

    @pytest.mark.parametrize(
        ("params", "problem"),
        [
            ({"status": "lost"}, "validation-failed"),
            ({"state": "gone"}, "validation-failed"),
            (
                {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
                "empty-period",
            ),
        ],
    )
    async def test_wrong_filters_are_localized_problems(self, adapter, params, problem):
        response = await adapter.get(
            EXPORT, params=params, headers=READ | {"Accept-Language": "de"}
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["content-language"] == "de"
        assert response.json()["type"] == f"urn:mam:problem:{problem}"

    async def test_no_cell_runs_as_a_formula(self, adapter):
        await submit(adapter, number='=HYPERLINK("http://x.pl")')
        await submit(adapter, category="@SUM(1+1)", number="+48 71 000")
        rows = await exported(adapter)
        cells = {cell for row in rows for cell in row.values()}
        assert '\'=HYPERLINK("http://x.pl")' in cells
        assert "'@SUM(1+1)" in cells
        assert "'+48 71 000" in cells
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)

    async def test_a_long_list_streams_in_batches_and_loses_no_case(
        self, adapter, monkeypatch
    ):
        monkeypatch.setattr(export, "BATCH", 3)
        start = utc(2026, 3, 2, 9)
        # Cases sharing a submission time across a batch's end: the id breaks the tie.
        times = [
            start,
            start,
            start,
            *(start + dt.timedelta(minutes=m) for m in range(5)),
        ]
        report_ids = {await submit(adapter, submitted_at=t) for t in times}
        rows = await exported(adapter)
        seen = [uuid.UUID(r["report_id"]) for r in rows]
        assert len(seen) == len(set(seen)) == 8
        assert set(seen) == report_ids
        assert seen == [uuid.UUID(c["report_id"]) for c in await listed(adapter)]
