"""Running a service's Alembic migrations from code, on its own engine."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import make_engine, make_sessionmaker
from shared.settings import ServiceSettings

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

# Alembic (and Mako with it) is imported by the commands that migrate, not by every
# process that starts a service: it is a tenth of a second of each start-up.


def alembic_config(script_location: Path, url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    return config


async def _alembic(
    script_location: Path,
    url: str,
    action: Callable[[Config, str], None],
    revision: str,
) -> None:
    """Run an Alembic command on a connection of our engine (so SQLite gets its pragmas)."""
    config = alembic_config(script_location, url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        action(config, revision)
        if connection.dialect.name == "sqlite":
            _check_foreign_keys(connection)

    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                await connection.run_sync(_foreign_keys, on=False)
            async with connection.begin():
                await connection.run_sync(run)
    finally:
        await engine.dispose()


def _foreign_keys(connection: Connection, *, on: bool) -> None:
    """Turn SQLite's foreign keys on or off for the connection, outside any transaction.

    SQLite changes a table (a column's type or nullability, a dropped column of a table
    others refer to) by copying it into a new one and dropping the old; with foreign keys
    on, dropping a table that rows refer to fails, or deletes those rows with it. As
    SQLite's documentation prescribes, they are off while the migrations run, and checked
    at the end instead (`_check_foreign_keys`).
    """
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse the migration (its transaction is rolled back) if it left a row referring to
    one that does not exist."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")


async def upgrade(script_location: Path, url: str, revision: str = "head") -> None:
    from alembic import command

    await _alembic(script_location, url, command.upgrade, revision)


async def downgrade(script_location: Path, url: str, revision: str) -> None:
    from alembic import command

    await _alembic(script_location, url, command.downgrade, revision)


async def upgrade_and_seed(
    settings: ServiceSettings,
    script_location: Path,
    seed: Callable[[AsyncSession], Awaitable[int]],
) -> None:
    """What `python -m <service> migrate` does: upgrade to head, then seed default data."""
    if settings.database_is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade(script_location, settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            added = await seed(session)
    finally:
        await engine.dispose()
    logger.info("migrate.done", extra={"seeded": added})


def new_revision(service: str, message: str) -> None:
    """Autogenerate a migration of `service` against a scratch SQLite database at head."""
    import asyncio
    import importlib
    import tempfile

    from alembic import command

    module = importlib.import_module(f"{service}.migrations")
    assert module.__file__ is not None
    script_location = Path(module.__file__).parent
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/scratch.db"
        asyncio.run(upgrade(script_location, url))
        command.revision(
            alembic_config(script_location, url), message=message, autogenerate=True
        )


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 4 or sys.argv[1] != "revision":
        sys.exit("usage: python -m shared.migrate revision <service package> <message>")
    new_revision(sys.argv[2], sys.argv[3])
