"""Limits as fixed windows of counted attempts; the counters live in the database.

A limit is a key (a keyed hash of what is counted, e.g. failed sign-ins of one address, or
requests from one IP address), a maximum and a window. `check` refuses once the maximum is
reached inside the window, `count` adds one, `hit` does both for requests that count
whatever their outcome, `clear` forgets. Expired counters are deleted whenever anything is
counted, so a hashed IP address is kept no longer than one window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.throttling import repository
from intake_service.throttling.exceptions import TooManyAttempts
from shared.db import utcnow


@dataclass(frozen=True)
class Limit:
    key: str
    maximum: int
    window: dt.timedelta


def limit(
    secret: str, scope: str, subject: str, *, maximum: int, window_seconds: int
) -> Limit:
    """The limit of `subject` (an address, an IP) in `scope`, keyed so it cannot be read back."""
    key = hmac.new(
        secret.encode(), f"{scope}:{subject}".encode(), hashlib.sha256
    ).hexdigest()
    return Limit(key, maximum, dt.timedelta(seconds=window_seconds))


def client_subject(host: str) -> str:
    """An IPv6 client is counted by its /64 network: one line gets a whole one."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


async def check(session: AsyncSession, *limits: Limit) -> None:
    """Raise `TooManyAttempts` if any limit is used up (counts nothing)."""
    now = utcnow()
    by_key = {item.key: item for item in limits}
    rows = await repository.live_counters(session, by_key, now)
    waits = [
        _seconds_until(ends_at, now)
        for key, count, ends_at in rows
        if count >= by_key[key].maximum
    ]
    if waits:
        raise TooManyAttempts(retry_after=max(waits))


async def count(
    session: AsyncSession, *limits: Limit, amount: int = 1
) -> list[tuple[int, dt.datetime]]:
    """Add `amount` attempts to each limit in the caller's transaction; returns (count,
    window end)."""
    now = utcnow()
    await repository.delete_ended(session, now)
    counters = []
    for item in limits:
        counters.append(
            await repository.add(
                session, item.key, amount=amount, window=item.window, now=now
            )
        )
    return counters


async def hit(session: AsyncSession, *limits: Limit, amount: int = 1) -> None:
    """Count one request (or `amount` items) against each limit, commit, and refuse it if
    one is over."""
    counters = await count(session, *limits, amount=amount)
    await session.commit()
    now = utcnow()
    waits = [
        _seconds_until(ends_at, now)
        for (counted, ends_at), item in zip(counters, limits, strict=True)
        if counted > item.maximum
    ]
    if waits:
        raise TooManyAttempts(retry_after=max(waits))


async def clear(session: AsyncSession, *limits: Limit) -> None:
    """Forget the attempts counted against the limits (in the caller's transaction)."""
    await repository.delete_counters(session, [item.key for item in limits])


async def forgive(session: AsyncSession, *limits: Limit) -> None:
    """Take back one attempt counted against each limit (one that turned out fine)."""
    await repository.take_back_one(session, [item.key for item in limits])
