"""Exponential backoff with full jitter, reading `Retry-After`, and holding a claim's lease
while an attempt runs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """`delay(n)` after the n-th failed attempt is uniform in [0, min(cap, base * 2**(n-1))]."""

    base: float = 2.0
    cap: float = 30 * 60.0
    budget: dt.timedelta = dt.timedelta(hours=72)

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * 2 ** max(attempts - 1, 0))
        delay = random.uniform(0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 3600.0))
        return delay


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - now).total_seconds(), 0.0)


class LeaseLost(Exception):
    """The claim an attempt ran under was taken over, or could not be renewed in time."""


async def under_lease(
    call: Callable[[], Awaitable[T]],
    *,
    renew: Callable[[], Awaitable[bool]],
    lease: dt.timedelta,
) -> T:
    """`call()`, its claim renewed every third of a lease for as long as it runs.

    The claim was made (one lease ahead) just before. `renew` moves it one lease ahead of
    now, guarded by the claim, and says whether the claim was still ours. The call is
    cancelled and `LeaseLost` raised as soon as the claim turns out to have been taken over,
    or once no renewal has succeeded for two thirds of a lease (the database out of reach):
    an attempt never runs on while another worker could take its row over.
    """
    loop = asyncio.get_running_loop()
    seconds = lease.total_seconds()
    task = asyncio.ensure_future(call())
    held_since = loop.time()
    next_renewal = held_since + seconds / 3
    try:
        while True:
            give_up = held_since + seconds * 2 / 3
            wait = min(next_renewal, give_up) - loop.time()
            await asyncio.wait({task}, timeout=max(wait, 0.0))
            if task.done():
                return task.result()
            started = loop.time()
            if started >= give_up:
                raise LeaseLost("the lease could not be renewed in time")
            try:
                async with asyncio.timeout(give_up - started):
                    held = await renew()
            except Exception as exc:
                logger.warning(
                    "lease.renewal_failed",
                    extra={"error": f"{type(exc).__name__}: {exc}"[:300]},
                )
                next_renewal = loop.time() + seconds / 12
                continue
            if not held:
                raise LeaseLost("the claim was taken over")
            held_since, next_renewal = started, started + seconds / 3
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
