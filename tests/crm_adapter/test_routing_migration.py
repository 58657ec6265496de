"""An existing database's routing table becomes version 1, and its cases name it."""

import asyncio
import datetime as dt

import sqlalchemy as sa

from crm_adapter.config import Settings
from crm_adapter.migrations import SCRIPT_LOCATION, migrate
from shared.db import make_engine
from shared.migrate import downgrade, upgrade
from tests.crm_adapter.old_schema import a_case, cases
from tests.databases import new_databases

BEFORE_VERSIONS = "e3a3cabedfe0"

units = sa.table("units", sa.column("code"), sa.column("name"), sa.column("connector"))
routes = sa.table(
    "routes", sa.column("category"), sa.column("unit_code"), sa.column("active")
)


async def _fill_the_old_tables(url: str) -> None:
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    if url.startswith("sqlite"):
        now = now.replace(tzinfo=None)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                units.insert(),
                [
                    {"code": "zdium", "name": "ZDiUM", "connector": "rest_json"},
                    {"code": "mpwik", "name": "MPWiK", "connector": "open311"},
                ],
            )
            await connection.execute(
                routes.insert(),
                [
                    {"category": "pothole", "unit_code": "zdium", "active": True},
                    {"category": "flooding", "unit_code": "mpwik", "active": True},
                    {"category": "graffiti", "unit_code": "zdium", "active": False},
                ],
            )
            await connection.execute(
                cases.insert(),
                [a_case("pothole", "zdium", now), a_case("graffiti", None, now)],
            )
    finally:
        await engine.dispose()


async def _read(url: str, query: str) -> list[tuple]:
    engine = make_engine(url, read_only=True)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(sa.text(query))]
    finally:
        await engine.dispose()


async def _upgrade_an_old_database(url: str, data_dir) -> None:
    await upgrade(SCRIPT_LOCATION, url, BEFORE_VERSIONS)
    await _fill_the_old_tables(url)
    await migrate(Settings(database_url=url, data_dir=data_dir))


def test_the_old_table_becomes_version_1(backend, tmp_path):
    for databases in new_databases(backend, tmp_path, "rmig"):
        url = databases.adapter
        asyncio.run(_upgrade_an_old_database(url, tmp_path))

        def read(query: str, url: str = url) -> list[tuple]:
            return asyncio.run(_read(url, query))

        # Carried over, not seeded from the defaults on top.
        assert read("SELECT number, created_by, replaced_at FROM routing_versions") == [
            (1, "migration", None)
        ]
        assert read(
            "SELECT code, name, connector FROM routing_units ORDER BY code"
        ) == [("mpwik", "MPWiK", "open311"), ("zdium", "ZDiUM", "rest_json")]
        # Only the active routes: an inactive one routed nothing before either.
        rules = read(
            "SELECT id, position, category, unit_code, area, connector "
            "FROM routing_rules ORDER BY position"
        )
        assert [rule[1:] for rule in rules] == [
            (0, "flooding", "mpwik", None, None),
            (1, "pothole", "zdium", None, None),
        ]
        pothole_rule = rules[1][0]
        assert sorted(
            read("SELECT category, routing_version, routing_rule_id FROM cases")
        ) == [("graffiti", 1, None), ("pothole", 1, pothole_rule)]

        # And back: the routes are those of the version in effect.
        asyncio.run(downgrade(SCRIPT_LOCATION, url, BEFORE_VERSIONS))
        assert read("SELECT category, unit_code FROM routes ORDER BY category") == [
            ("flooding", "mpwik"),
            ("pothole", "zdium"),
        ]
        assert len(read("SELECT id FROM cases")) == 2
