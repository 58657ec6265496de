"""Declarative base with naming conventions, UTC timestamps, and engine/session factories."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    DateTime,
    MetaData,
    String,
    Table,
    event,
    exc,
    insert,
    inspect,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import registry
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

from shared import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current instant in UTC, from the clock in use (`shared.clock`)."""
    return clock.now()


E = TypeVar("E", bound=enum.StrEnum)


class StrEnumText(TypeDecorator[E]):
    """A string enum's value as text (`String(length)`): what the database holds is the
    same text as before, and what the model holds is the enum member."""

    impl = String
    cache_ok = True

    def __init__(self, enum_type: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_type = enum_type

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_type(value)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every engine (SQLite stores no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return (
            value.replace(tzinfo=dt.UTC)
            if value.tzinfo is None
            else value.astimezone(dt.UTC)
        )


def new_registry() -> registry:
    """A registry of its own for one service's models, so the two services never mix.

    ``class Base(DeclarativeBase): registry = new_registry()`` in each service.
    """
    return registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UtcDateTime},
    )


def upsert_insert(
    session: AsyncSession, table: Any
) -> postgresql.Insert | sqlite.Insert:
    """`INSERT` into `table` in the session's dialect, which can take `ON CONFLICT`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def table_of(model: type[Any]) -> Table:
    """A mapped class's table, for Core statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def row_of(obj: object) -> dict[str, Any]:
    """The column values of a new ORM object, by column name, for a Core INSERT: those set
    on it, and the constant defaults of the others (every row of a multi-row INSERT must
    name the same columns)."""
    state = inspect(obj)
    values = state.dict
    row: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        for column in attribute.columns:
            if attribute.key in values:
                row[column.key] = values[attribute.key]
            elif isinstance(column.default, ScalarElementColumnDefault):
                row[column.key] = column.default.arg
    return row


async def insert_rows(
    session: AsyncSession, batches: Sequence[tuple[Table, Sequence[dict[str, Any]]]]
) -> None:
    """INSERT rows into several tables in the caller's transaction, table after table
    (with `row_of`, rows nobody reads back skip the unit of work)."""
    for table, rows in batches:
        if rows:
            await session.execute(insert(table), list(rows))


def database_of(session: AsyncSession) -> URL:
    """Which database the session works on (its engine's URL, hashable), to key what a
    process keeps per database; cheap enough for every request."""
    bind = session.bind
    engine = bind.engine if isinstance(bind, AsyncConnection) else bind
    assert isinstance(engine, AsyncEngine)
    return engine.url


_UNREACHABLE_SQLITE = ("database is locked", "unable to open database file")


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, then the driver's error it wraps (`orig`) or its cause, and so on."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = (
            getattr(current, "orig", None) or current.__cause__ or current.__context__
        )


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached just now (down, restarting,
    connection lost, out of connections, locked past the busy timeout) rather than that
    the statement or the data were wrong: the request may succeed if sent again."""
    for current in causes(error):
        if isinstance(current, ConnectionError | TimeoutError | exc.TimeoutError):
            return True
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and (
            state.startswith(("08", "57P")) or state == "53300"
        ):
            return True
        if isinstance(current, exc.OperationalError | sqlite3.OperationalError) and any(
            text in str(current) for text in _UNREACHABLE_SQLITE
        ):
            return True
    return False


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has closed (a restart, an idle timeout)
    is replaced before use. Unlike a ping, this costs no round trip: the event loop has
    already seen the socket close."""
    connection = getattr(dbapi_connection, "_connection", None)
    if connection is not None and connection.is_closed():
        raise exc.DisconnectionError("the database closed this connection")


async def _acquire(lock: asyncio.Lock, seconds: float) -> None:
    """The lock within `seconds`, or TimeoutError (not `wait_for`, which on Python 3.11 can
    drop a cancellation that arrives as the lock is taken, and leave it held)."""
    async with asyncio.timeout(seconds):
        await lock.acquire()


def make_engine(
    url: str,
    *,
    read_only: bool = False,
    pool_size: int = 5,
    max_overflow: int = 10,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine; on SQLite every transaction takes the write lock up front.

    On PostgreSQL `pool_size` connections stay open for reuse and up to `max_overflow`
    more are opened for a burst and closed after it (SQLite takes neither: one writer at
    a time whatever the pool).

    A deferred BEGIN that reads and then writes can fail with SQLITE_BUSY despite the busy
    timeout, so SQLite transactions start with BEGIN IMMEDIATE, and the file runs in WAL mode
    with synchronous=FULL so that a committed report survives a power loss.
    """
    if not is_sqlite(url):
        engine = create_async_engine(
            url,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            **kwargs,
        )
        event.listen(engine.sync_engine, "checkout", _replace_if_closed)
        return engine
    engine = create_async_engine(
        url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs
    )
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    if read_only:
        event.listen(engine.sync_engine, "begin", _on_begin_reading)
    else:
        _queue_writers(engine)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _on_begin_reading(conn: Any) -> None:
    # A reader must not hold the write lock while it looks.
    conn.exec_driver_sql("BEGIN")


def _queue_writers(engine: AsyncEngine) -> None:
    """SQLite lets one transaction write at a time and makes the others poll for the lock,
    sleeping up to 100 ms between tries, so under load the lock often sits free while they
    sleep. This process's transactions queue for it here instead, each woken as the one
    before it ends (other processes on the file still poll)."""
    writer = asyncio.Lock()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        info = conn.connection.info
        if not info.get(_HOLDS_WRITER):
            try:
                await_only(_acquire(writer, SQLITE_WAIT_SECONDS))
            except TimeoutError as error:
                raise exc.OperationalError(
                    "BEGIN IMMEDIATE", None, TimeoutError("database is locked")
                ) from error
            info[_HOLDS_WRITER] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            # A cancelled BEGIN invalidates the connection, which gives the lock back.
            if info.pop(_HOLDS_WRITER, False):
                writer.release()
            raise

    def release(record: Any) -> None:
        if record is not None and record.info.pop(_HOLDS_WRITER, False):
            writer.release()

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # Back in the pool, the connection has ended its transaction (a session commits
        # or rolls back, then returns its connection).
        release(record)

    @event.listens_for(engine.sync_engine, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _error: Any) -> None:
        release(record)  # closed without being checked in (a cancelled task, an error)


SQLITE_WAIT_SECONDS = 30.0
"""How long a transaction on SQLite waits for the write lock, as SQLite's busy timeout."""
_HOLDS_WRITER = "mam_holds_sqlite_writer"


def make_sessionmaker(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, info=info or {})
