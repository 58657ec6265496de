"""The migrations to due times keep what was there: category targets and existing cases."""

import asyncio
import datetime as dt
import uuid

import sqlalchemy as sa

from crm_adapter.migrations import SCRIPT_LOCATION as ADAPTER_MIGRATIONS
from intake_service.migrations import SCRIPT_LOCATION as INTAKE_MIGRATIONS
from shared.db import UtcDateTime, make_engine
from shared.migrate import downgrade, upgrade
from tests.databases import new_databases

INTAKE_BEFORE = "822ff19ddf9b"
ADAPTER_BEFORE = "994dfc60fbaa"

categories = sa.table(
    "categories",
    sa.column("code", sa.String),
    sa.column("group_code", sa.String),
    sa.column("names", sa.JSON),
    sa.column("unit_code", sa.String),
    sa.column("expected_resolution_hours", sa.Integer),
    sa.column("expected_resolution_working_days", sa.Integer),
    sa.column("active", sa.Boolean),
    sa.column("position", sa.Integer),
)

cases = sa.table(
    "cases",
    sa.column("id", sa.Uuid),
    sa.column("report_id", sa.Uuid),
    sa.column("report_number", sa.String),
    sa.column("category", sa.String),
    sa.column("description", sa.Text),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
    sa.column("submitted_at", UtcDateTime()),
    sa.column("state", sa.String),
    sa.column("crm_version", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("status_version", sa.BigInteger),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", UtcDateTime()),
    sa.column("created_at", UtcDateTime()),
    sa.column("updated_at", UtcDateTime()),
    sa.column("due_at", UtcDateTime()),
    sa.column("closed_at", UtcDateTime()),
)


NEW_COLUMNS = ("due_at", "closed_at")


async def execute(url: str, *statements: sa.Executable) -> list[sa.Row]:
    """Run the statements in one transaction; the rows of the last one."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            result = None
            for statement in statements:
                result = await connection.execute(statement)
            return (
                list(result.all()) if result is not None and result.returns_rows else []
            )
    finally:
        await engine.dispose()


async def _categories(url: str) -> dict[str, tuple[int | None, int | None]]:
    await upgrade(INTAKE_MIGRATIONS, url, INTAKE_BEFORE)
    names = {"pl": "x", "en": "x", "de": "x"}
    await execute(
        url,
        sa.text("INSERT INTO units (code, names) VALUES ('zdium', '{}')"),
        sa.text(
            "INSERT INTO category_groups (code, names, position) VALUES ('roads', '{}', 0)"
        ),
    )
    rows = [
        ("pothole", 168),  # the old default: now 5 working days
        ("damaged_pavement", 200),  # an operator's own target stays in hours
        ("traffic_signal_fault", 4),  # a short target stays in hours
    ]
    await execute(
        url,
        categories.insert().values(
            [
                {
                    "code": code,
                    "group_code": "roads",
                    "names": names,
                    "unit_code": "zdium",
                    "expected_resolution_hours": hours,
                    "active": True,
                    "position": 0,
                }
                for code, hours in rows
            ]
        ),
    )
    await upgrade(INTAKE_MIGRATIONS, url)
    select = sa.select(
        categories.c.code,
        categories.c.expected_resolution_hours,
        categories.c.expected_resolution_working_days,
    )
    after = {code: (h, d) for code, h, d in await execute(url, select)}
    await downgrade(INTAKE_MIGRATIONS, url, INTAKE_BEFORE)
    back = await execute(
        url, sa.select(categories.c.code, categories.c.expected_resolution_hours)
    )
    assert dict(back) == dict(rows)
    return after


def test_long_default_targets_become_working_days(backend, tmp_path):
    for databases in new_databases(backend, tmp_path, "slacat"):
        after = asyncio.run(_categories(databases.intake))
        assert after == {
            "pothole": (None, 5),
            "damaged_pavement": (200, None),
            "traffic_signal_fault": (4, None),
        }


async def _cases(url: str) -> dict[str, tuple[dt.datetime, dt.datetime | None]]:
    await upgrade(ADAPTER_MIGRATIONS, url, ADAPTER_BEFORE)
    monday = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    closed = monday + dt.timedelta(days=2)
    common = {
        "report_number": "WRO-2026-000001",
        "description": "x",
        "lat": 51.1,
        "lon": 17.0,
        "submitted_at": monday,
        "state": "created",
        "crm_version": 1,
        "status_version": 1,
        "attempts": 1,
        "next_attempt_at": monday,
        "created_at": monday,
    }
    rows = [
        ("pothole", "in_progress", monday),
        ("traffic_signal_fault", "resolved", closed),
        ("noise_complaint", "received", monday),
    ]
    before = sa.table(
        "cases",
        *(sa.column(c.name, c.type) for c in cases.c if c.name not in NEW_COLUMNS),
    )
    await execute(
        url,
        sa.insert(before).values(
            [
                {
                    **common,
                    "id": uuid.uuid4(),
                    "report_id": uuid.uuid4(),
                    "category": category,
                    "status": status,
                    "updated_at": updated_at,
                }
                for category, status, updated_at in rows
            ]
        ),
    )
    await upgrade(ADAPTER_MIGRATIONS, url)
    found = await execute(
        url, sa.select(cases.c.category, cases.c.due_at, cases.c.closed_at)
    )
    return {category: (due, closed) for category, due, closed in found}


def test_existing_cases_get_due_and_closing_times(backend, tmp_path):
    monday = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    for databases in new_databases(backend, tmp_path, "slacase"):
        assert asyncio.run(_cases(databases.adapter)) == {
            # The category's shipped target: 5 working days, 4 hours.
            "pothole": (dt.datetime(2026, 3, 9, 9, tzinfo=dt.UTC), None),
            # Closed: its last change is taken for its closing.
            "traffic_signal_fault": (
                monday + dt.timedelta(hours=4),
                monday + dt.timedelta(days=2),
            ),
            # A category the adapter never shipped: 5 working days.
            "noise_complaint": (dt.datetime(2026, 3, 9, 9, tzinfo=dt.UTC), None),
        }
