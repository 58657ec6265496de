"""The migrations build exactly what the models declare, on both databases, and reverse cleanly."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from crm_adapter.db import Base as AdapterBase
from crm_adapter.migrations import SCRIPT_LOCATION as ADAPTER_MIGRATIONS
from intake_service.db import Base as IntakeBase
from intake_service.migrations import SCRIPT_LOCATION as INTAKE_MIGRATIONS
from shared.db import make_engine
from shared.migrate import downgrade, upgrade
from shared.migrations_env import on_dialect
from tests.databases import new_databases

SERVICES = {
    "intake": (IntakeBase, INTAKE_MIGRATIONS),
    "adapter": (AdapterBase, ADAPTER_MIGRATIONS),
}


# SQLite cannot reflect expression indexes; the one the models declare is PostgreSQL's only.
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)
@pytest.mark.parametrize("service", SERVICES)
async def test_models_and_migrations_agree(databases, service):
    base, _ = SERVICES[service]
    engine = make_engine(getattr(databases, service), read_only=True)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync,
                        opts={
                            "compare_type": True,
                            "include_object": on_dialect(sync.dialect.name),
                        },
                    ),
                    base.metadata,
                )
            )
    finally:
        await engine.dispose()
    assert diff == []


async def _down_and_up(script_location, url) -> set[str]:
    await upgrade(script_location, url)
    await downgrade(script_location, url, "base")
    engine = make_engine(url, read_only=True)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(
                lambda sync: inspect(sync).get_table_names()
            )
    finally:
        await engine.dispose()
    await upgrade(script_location, url)
    return set(tables)


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_go_down_and_up_again(backend, tmp_path, service):
    _, script_location = SERVICES[service]
    for databases in new_databases(backend, tmp_path, "mig"):
        tables_at_base = asyncio.run(
            _down_and_up(script_location, getattr(databases, service))
        )
        assert tables_at_base <= {"alembic_version"}
