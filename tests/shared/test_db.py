"""Engines: a connection the database server closed is replaced, not handed to a request;
a burst within the pool opens no new connections."""

import asyncio
import sqlite3

import pytest
from sqlalchemy import event, make_url, text

from intake_service.config import Settings as IntakeSettings
from shared.db import make_engine
from shared.runtime import open_runtime
from tests.conftest import BACKENDS
from tests.helpers import eventually


# Only a server closes connections: PostgreSQL's (always there in CI).
@pytest.mark.parametrize(
    "backend", [b for b in BACKENDS if b == "postgresql"], indirect=True
)
async def test_a_pooled_connection_the_server_closed_is_replaced(databases):
    engine = make_engine(databases.intake, pool_size=1, max_overflow=0)
    admin = make_engine(databases.intake)
    try:
        async with engine.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            raw = (await connection.get_raw_connection()).driver_connection
        # The server ends the pooled connection (as a restart or an idle timeout would).
        async with admin.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await eventually(
            lambda: _closed(raw), what="the client saw the connection close"
        )
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
            assert await connection.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()
        await admin.dispose()


async def _closed(raw) -> bool:
    return raw.is_closed()


@pytest.mark.parametrize(
    "backend", [b for b in BACKENDS if b == "postgresql"], indirect=True
)
async def test_a_burst_within_the_pool_settings_reuses_its_connections(databases):
    """The relay sends a batch side by side and each send finishes in a session of its
    own: connections beyond the pool would be opened and closed for every burst."""
    settings = IntakeSettings(
        database_url=databases.intake,
        database_pool_size=12,
        database_pool_overflow=0,
    )
    async with open_runtime(settings, None) as runtime:
        burst = settings.database_pool_size - 1  # one is the wake-up listener's

        async def pids() -> set[int]:
            together = asyncio.Barrier(burst)

            async def one() -> int:
                async with runtime.sessionmaker() as session:
                    pid = await session.scalar(text("SELECT pg_backend_pid()"))
                    await together.wait()  # all of them hold a connection at once
                    return pid

            return set(await asyncio.gather(*(one() for _ in range(burst))))

        first = await pids()
        assert len(first) == burst
        assert await pids() == first


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
class TestSqliteWriters:
    """On SQLite a process's transactions queue for the write lock; none is left holding
    it when its transaction ends however it ends."""

    async def test_concurrent_writers_all_commit(self, databases):
        engine = make_engine(databases.intake)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("CREATE TABLE tally (n INTEGER)"))

            async def add(n: int) -> None:
                async with engine.begin() as connection:
                    await connection.execute(
                        text("INSERT INTO tally VALUES (:n)"), {"n": n}
                    )

            await asyncio.gather(*(add(n) for n in range(40)))
            async with engine.connect() as connection:
                total = await connection.scalar(text("SELECT sum(n) FROM tally"))
            assert total == sum(range(40))
        finally:
            async with engine.begin() as connection:  # the database is the session's
                await connection.execute(text("DROP TABLE IF EXISTS tally"))
            await engine.dispose()

    async def test_a_failed_or_cancelled_transaction_lets_the_next_one_begin(
        self, databases
    ):
        engine = make_engine(databases.intake)
        try:

            async def failing() -> None:
                async with engine.begin() as connection:
                    await connection.execute(text("SELECT 1"))
                    raise RuntimeError("the transaction fails")

            with pytest.raises(RuntimeError):
                await failing()
            begun = asyncio.Event()

            async def held_open() -> None:
                async with engine.begin() as connection:
                    await connection.execute(text("SELECT 1"))
                    begun.set()
                    await asyncio.Event().wait()  # until cancelled

            task = asyncio.create_task(held_open())
            await begun.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            async with asyncio.timeout(
                10
            ):  # far below the 30 s a leaked lock would cost
                async with engine.begin() as connection:
                    assert await connection.scalar(text("SELECT 1")) == 1
        finally:
            await engine.dispose()

    async def test_a_begin_cancelled_while_another_process_writes_stays_cancelled(
        self, databases
    ):
        """The write lock is given back once, and the task ends cancelled: no KeyError
        in place of the cancellation (a 500 when a request is cut off)."""
        engine = make_engine(databases.intake)
        path = make_url(databases.intake).database
        assert path is not None
        other_process = sqlite3.connect(path, isolation_level=None)
        try:
            other_process.execute("BEGIN IMMEDIATE")  # holds the file's write lock
            waiting = asyncio.Event()

            @event.listens_for(engine.sync_engine, "before_cursor_execute")
            def _seen(_conn, _cursor, statement, *_args) -> None:
                if statement == "BEGIN IMMEDIATE":
                    waiting.set()

            async def write() -> None:
                async with engine.begin() as connection:
                    await connection.execute(text("SELECT 1"))

            task = asyncio.create_task(write())
            async with asyncio.timeout(10):
                await waiting.wait()
            task.cancel()
            other_process.rollback()  # the cancelled BEGIN's thread can end now
            async with asyncio.timeout(10):
                with pytest.raises(asyncio.CancelledError):
                    await task
                async with engine.begin() as connection:
                    assert await connection.scalar(text("SELECT 1")) == 1
        finally:
            other_process.close()
            await engine.dispose()
