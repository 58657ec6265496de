"""Emptying a session's database between tests, in as few round trips as can be.

Every table but the reference data is emptied by one script of DELETEs (PostgreSQL takes it
in one round trip and restarts the report-number sequences in it); what a seed wrote is read
back once, as the driver sees it, and written again as it was. Plain SQL throughout: a test's
engine is new, so SQLAlchemy would compile each statement again at every reset.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.db import make_engine, make_sessionmaker

_RESTART_REPORT_NUMBERS = """
DO $$
DECLARE name text;
BEGIN
  FOR name IN SELECT sequence_name FROM information_schema.sequences
              WHERE sequence_name LIKE 'report_number_%'
  LOOP
    EXECUTE format('ALTER SEQUENCE %I RESTART', name);
  END LOOP;
END $$"""
"""Report numbers start again at 1, as on a new database."""


@dataclass(frozen=True)
class _Seeded:
    table: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


_SEEDED: dict[str, list[_Seeded]] = {}
"""What each database's seed wrote, by URL: seeded once per session, written again after."""


async def reset(
    url: str,
    metadata: MetaData,
    keep: set[str],
    seed: Callable[[AsyncSession], Awaitable[object]] | None = None,
) -> None:
    """Empty every table of `metadata` but `keep`, then put back what `seed` wrote (`seed`
    runs the first time, in a transaction of its own)."""
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name not in keep]
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                deletes = ";".join(f"DELETE FROM {table}" for table in tables)
                await raw.execute(f"{deletes};{_RESTART_REPORT_NUMBERS}")
            else:
                for table in tables:
                    await raw.execute(f"DELETE FROM {table}")
            for seeded in _SEEDED.get(url, []):
                await _write(raw, seeded, postgres=postgres)
        if seed is not None and url not in _SEEDED:
            async with make_sessionmaker(engine)() as session:
                await seed(session)
            async with engine.connect() as connection:
                _SEEDED[url] = [
                    seeded
                    for table in reversed(tables)
                    if (seeded := await _read(connection, table)).rows
                ]
    finally:
        await engine.dispose()


async def _read(connection: AsyncConnection, table: str) -> _Seeded:
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    if connection.dialect.name == "postgresql":
        records = await raw.fetch(f"SELECT * FROM {table}")
        columns = list(records[0].keys()) if records else []
        return _Seeded(table, columns, [tuple(r) for r in records])
    cursor = await raw.execute(f"SELECT * FROM {table}")
    rows = await cursor.fetchall()
    columns = [d[0] for d in cursor.description]
    await cursor.close()
    return _Seeded(table, columns, [tuple(r) for r in rows])


async def _write(raw: Any, seeded: _Seeded, *, postgres: bool) -> None:
    names = ", ".join(seeded.columns)
    if postgres:
        marks = ", ".join(f"${i}" for i in range(1, len(seeded.columns) + 1))
    else:
        marks = ", ".join("?" for _ in seeded.columns)
    await raw.executemany(
        f"INSERT INTO {seeded.table} ({names}) VALUES ({marks})", seeded.rows
    )
