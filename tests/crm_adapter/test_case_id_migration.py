"""An existing database whose CRM handed a case id out twice gets ids unique per
connector: the later report keeps it, the earlier one's case is held for an operator."""

import asyncio
import datetime as dt

import sqlalchemy as sa

from crm_adapter.config import Settings
from crm_adapter.migrations import SCRIPT_LOCATION, migrate
from shared.db import make_engine
from shared.migrate import upgrade
from tests.crm_adapter.old_schema import a_case, cases
from tests.databases import new_databases

BEFORE_UNIQUE_IDS = "ea4d1a8ed509"

cases_with_ids = sa.table(
    cases.name,
    *(sa.column(c.name, c.type) for c in cases.columns),
    sa.column("crm_case_id"),
    sa.column("routing_version"),
)


def a_created_case(number: str, crm_case_id: str, connector: str, at: dt.datetime):
    return a_case("pothole", None, at) | {
        "report_number": number,
        "crm_case_id": crm_case_id,
        "connector": connector,
        "state": "created",
        "routing_version": 1,
    }


async def _fill(url: str) -> None:
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    if url.startswith("sqlite"):
        now = now.replace(tzinfo=None)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                cases_with_ids.insert(),
                [
                    a_created_case("WRO-2026-000001", "CRM-000001", "rest_json", now),
                    a_created_case(
                        "WRO-2026-000002",
                        "CRM-000001",
                        "rest_json",
                        now + dt.timedelta(hours=1),
                    ),
                    # Another CRM's number 1 is another case.
                    a_created_case("WRO-2026-000003", "CRM-000001", "open311", now),
                ],
            )
    finally:
        await engine.dispose()


async def _read(url: str) -> dict[str, tuple]:
    engine = make_engine(url, read_only=True)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.text(
                    "SELECT report_number, state, crm_case_id, last_error FROM cases"
                )
            )
            return {row[0]: tuple(row[1:]) for row in rows}
    finally:
        await engine.dispose()


def test_the_later_report_keeps_a_reused_case_id(backend, tmp_path):
    for databases in new_databases(backend, tmp_path, "cidmig"):
        url = databases.adapter
        asyncio.run(upgrade(SCRIPT_LOCATION, url, BEFORE_UNIQUE_IDS))
        asyncio.run(_fill(url))
        asyncio.run(migrate(Settings(database_url=url, data_dir=tmp_path)))

        found = asyncio.run(_read(url))
        assert found["WRO-2026-000002"] == ("created", "CRM-000001", None)
        assert found["WRO-2026-000003"] == ("created", "CRM-000001", None)
        state, crm_case_id, error = found["WRO-2026-000001"]
        assert (state, crm_case_id) == ("dead", None)
        assert "CRM-000001" in error
