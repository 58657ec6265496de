"""Wake a background loop as soon as the transaction that gave it work commits.

A service asks for a wake-up with `wake_after_commit(session, name)`; the sessionmaker carries a
`Wakeups` in its `info`, and after a successful commit the named loops stop waiting. Rolled
back work wakes nobody. Loops in other processes still find the work at their next poll.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

INFO_KEY = "wakeups"
_PENDING = "wakeups_pending"


class Wakeups:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, name: str) -> asyncio.Event:
        return self._events.setdefault(name, asyncio.Event())

    def notify(self, name: str) -> None:
        self.event(name).set()


def wake_after_commit(session: AsyncSession, name: str) -> None:
    session.sync_session.info.setdefault(_PENDING, set()).add(name)


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
