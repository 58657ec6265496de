"""The adapter's migration giving existing cases their due times counts in the city's calendar
(`MAM_TIME_ZONE`, `MAM_HOLIDAYS`), as the services do."""

import asyncio
import datetime as dt
import uuid

import sqlalchemy as sa

from crm_adapter.migrations import SCRIPT_LOCATION as ADAPTER_MIGRATIONS
from shared.migrate import upgrade
from tests.databases import new_databases
from tests.test_sla_migrations import ADAPTER_BEFORE, NEW_COLUMNS, cases, execute

# Wednesday before Ascension Day (a Bavarian holiday, not a Polish one), 10:00 in Munich.
SUBMITTED = dt.datetime(2026, 5, 13, 8, tzinfo=dt.UTC)


async def _backfilled_due(url: str) -> dt.datetime:
    await upgrade(ADAPTER_MIGRATIONS, url, ADAPTER_BEFORE)
    before = sa.table(
        "cases",
        *(sa.column(c.name, c.type) for c in cases.c if c.name not in NEW_COLUMNS),
    )
    await execute(
        url,
        sa.insert(before).values(
            id=uuid.uuid4(),
            report_id=uuid.uuid4(),
            report_number="MUC-2026-000001",
            category="pothole",
            description="x",
            lat=48.14,
            lon=11.58,
            submitted_at=SUBMITTED,
            state="created",
            crm_version=1,
            status="received",
            status_version=1,
            attempts=1,
            next_attempt_at=SUBMITTED,
            created_at=SUBMITTED,
            updated_at=SUBMITTED,
        ),
    )
    await upgrade(ADAPTER_MIGRATIONS, url)
    [(due,)] = await execute(url, sa.select(cases.c.due_at))
    return due


def test_existing_cases_are_due_in_the_citys_calendar(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("MAM_TIME_ZONE", "Europe/Berlin")
    monkeypatch.setenv("MAM_HOLIDAYS", "DE-BY")
    for databases in new_databases(backend, tmp_path, "slacal"):
        due = asyncio.run(_backfilled_due(databases.adapter))
        # A pothole's 5 working days without Ascension Day: Thursday 21 May, 10:00 in
        # Munich (in Poland: Wednesday 20 May).
        assert due == dt.datetime(2026, 5, 21, 8, tzinfo=dt.UTC)
