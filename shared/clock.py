"""The time both services run on: the system's, or one a test has set.

Everything that reads the current time goes through `now()` (`shared.db.utcnow` is the same
thing), so a test can run the code at any instant it chooses: a Saturday night, the day
before a holiday, the last second of a year. `SetClock` starts at the instant given and
then runs at the pace of the real clock, so timeouts and orderings keep working; `set()` and
`advance()` move it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class SetClock:
    """A clock set to `start` that ticks with the real one from then on."""

    def __init__(self, start: dt.datetime) -> None:
        self.set(start)

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._since)

    def set(self, instant: dt.datetime) -> None:
        """Jump to `instant` (aware) and tick on from there."""
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        self._start, self._since = instant.astimezone(dt.UTC), time.monotonic()

    def advance(self, delta: dt.timedelta) -> None:
        self._start += delta


_current: Clock = SystemClock()


def now() -> dt.datetime:
    """The current instant in UTC, as the clock in use tells it."""
    return _current.now()


@contextlib.contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Run the block (and whatever it starts in this process) on `clock`."""
    global _current
    previous, _current = _current, clock
    try:
        yield clock
    finally:
        _current = previous
