"""Wake a background loop as soon as the transaction that gave it work commits.

A service asks for a wake-up with `wake_after_commit(session, name)`. In the same process the
sessionmaker carries a `Wakeups` in its `info`, and after a successful commit the named loops
stop waiting. On PostgreSQL the transaction also sends `NOTIFY mam_wakeup, '<name>'`, which
PostgreSQL delivers only on commit, so loops in other processes (workers, other replicas) that
`listen()` wake up too. Rolled-back work wakes nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

INFO_KEY = "wakeups"
CHANNEL = "mam_wakeup"
_PENDING = "wakeups_pending"


class Wakeups:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._subscribers: dict[str, set[asyncio.Event]] = {}

    def event(self, name: str) -> asyncio.Event:
        """The one event of a loop (the loop clears it when it starts a pass)."""
        return self._events.setdefault(name, asyncio.Event())

    @contextlib.contextmanager
    def subscription(self, name: str) -> Iterator[asyncio.Event]:
        """An event of its own for each listener (an open stream), set on every wake-up."""
        event = asyncio.Event()
        listeners = self._subscribers.setdefault(name, set())
        listeners.add(event)
        try:
            yield event
        finally:
            listeners.discard(event)

    def notify(self, name: str) -> None:
        self.event(name).set()
        for listener in self._subscribers.get(name, ()):
            listener.set()

    def notify_all(self) -> None:
        for name in {*self._events, *self._subscribers}:
            self.notify(name)


def _set(flag: asyncio.Event, *_args: Any) -> None:
    flag.set()


def wake_after_commit(session: AsyncSession, name: str) -> None:
    session.sync_session.info.setdefault(_PENDING, set()).add(name)


@event.listens_for(Session, "before_commit")
def _notify_other_processes(session: Session) -> None:
    names: set[str] = session.info.get(_PENDING, set())
    if names and session.get_bind().dialect.name == "postgresql":
        for name in sorted(names):
            session.execute(
                text("SELECT pg_notify(:channel, :name)"),
                {"channel": CHANNEL, "name": name},
            )


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    names: set[str] = session.info.pop(_PENDING, set())
    wakeups: Any = session.info.get(INFO_KEY)
    if isinstance(wakeups, Wakeups):
        for name in names:
            wakeups.notify(name)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


async def listen(
    engine: AsyncEngine, wakeups: Wakeups, *, retry_seconds: float = 5.0
) -> None:
    """On PostgreSQL, turn other processes' notifications into wake-ups until cancelled."""
    if engine.dialect.name != "postgresql":
        return

    def deliver(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        wakeups.notify(payload)

    while True:
        try:
            async with engine.connect() as connection:
                raw = (await connection.get_raw_connection()).driver_connection
                assert raw is not None
                await raw.add_listener(CHANNEL, deliver)
                lost = asyncio.Event()
                raw.add_termination_listener(functools.partial(_set, lost))
                # Work committed while we were not listening is found by this first pass.
                wakeups.notify_all()
                await lost.wait()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("wakeup.listen_failed")
        await asyncio.sleep(retry_seconds)
