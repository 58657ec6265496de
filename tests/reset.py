"""Emptying a session's database between tests, in as few round trips as can be.

Every table but the reference data is emptied by one script of DELETEs (PostgreSQL takes it
in one round trip and restarts the report-number sequences in it); what a seed wrote is read
back once, as the driver sees it, and written again as it was.

The connection that does it stays open for the whole session, so a reset costs its
statements, not a new connection and the driver's start-up queries: SQLite's through the
standard library's driver, PostgreSQL's on an event loop of its own in a thread (each test
runs on a loop of its own, and an asyncpg connection belongs to the loop that opened it).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import make_engine, make_sessionmaker

T = TypeVar("T")

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

Seed = Callable[[AsyncSession], Awaitable[object]]


@dataclass(frozen=True)
class _Seeded:
    table: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


class Resets:
    """Empties the session's databases (`reset`); `close` ends its connections."""

    def __init__(self) -> None:
        self._seeded: dict[str, list[_Seeded]] = {}
        """What each database's seed wrote, by URL: seeded once, written again after."""
        self._sqlite: dict[str, sqlite3.Connection] = {}
        self._postgres: dict[str, asyncpg.Connection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def reset(
        self, url: str, metadata: MetaData, keep: set[str], seed: Seed | None = None
    ) -> None:
        """Empty every table of `metadata` but `keep`, then put back what `seed` wrote
        (`seed` runs the first time, in a transaction of its own)."""
        tables = [
            t.name for t in reversed(metadata.sorted_tables) if t.name not in keep
        ]
        if make_url(url).get_backend_name() == "postgresql":
            self._run(self._reset_postgres(url, tables))
        else:
            self._reset_sqlite(url, tables)
        if seed is not None and url not in self._seeded:
            self._run(_seed(url, seed))
            self._seeded[url] = [
                seeded
                for table in reversed(tables)
                if (seeded := self._read(url, table)).rows
            ]

    def close(self) -> None:
        for connection in self._sqlite.values():
            connection.close()
        if self._loop is not None and self._thread is not None:
            self._run(self._end_postgres())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> Resets:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def _end_postgres(self) -> None:
        # Ended without a goodbye: the session's databases may be dropped already.
        for connection in self._postgres.values():
            connection.terminate()

    def _reset_sqlite(self, url: str, tables: list[str]) -> None:
        connection = self._sqlite_connection(url)
        with connection:  # one transaction, committed at the end
            for table in tables:
                connection.execute(f"DELETE FROM {table}")
            for seeded in self._seeded.get(url, []):
                connection.executemany(_insert(seeded, postgres=False), seeded.rows)

    async def _reset_postgres(self, url: str, tables: list[str]) -> None:
        connection = await self._postgres_connection(url)
        deletes = ";".join(f"DELETE FROM {table}" for table in tables)
        async with connection.transaction():
            await connection.execute(f"{deletes};{_RESTART_REPORT_NUMBERS}")
            for seeded in self._seeded.get(url, []):
                await connection.executemany(
                    _insert(seeded, postgres=True), seeded.rows
                )

    def _read(self, url: str, table: str) -> _Seeded:
        if url in self._postgres:
            records = self._run(self._postgres[url].fetch(f"SELECT * FROM {table}"))
            columns = list(records[0].keys()) if records else []
            return _Seeded(table, columns, [tuple(r) for r in records])
        cursor = self._sqlite_connection(url).execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description]
        return _Seeded(table, columns, [tuple(r) for r in cursor.fetchall()])

    def _sqlite_connection(self, url: str) -> sqlite3.Connection:
        if url not in self._sqlite:
            path = make_url(url).database
            assert path, url
            # Foreign keys on, as the services' engines set them; the harness's own
            # commits need not wait for the disk.
            connection = sqlite3.connect(path, timeout=30)
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA synchronous = OFF")
            self._sqlite[url] = connection
        return self._sqlite[url]

    async def _postgres_connection(self, url: str) -> asyncpg.Connection:
        if url not in self._postgres:
            dsn = make_url(url).set(drivername="postgresql")
            self._postgres[url] = await asyncpg.connect(
                dsn.render_as_string(hide_password=False)
            )
        return self._postgres[url]

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the resets' own loop and wait for it."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="test-resets", daemon=True
            )
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()


async def _seed(url: str, seed: Seed) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            await seed(session)
    finally:
        await engine.dispose()


def _insert(seeded: _Seeded, *, postgres: bool) -> str:
    names = ", ".join(seeded.columns)
    count = len(seeded.columns)
    marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, count + 1))
    return f"INSERT INTO {seeded.table} ({names}) VALUES ({marks})"
