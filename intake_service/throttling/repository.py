"""Queries on attempt counters; never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import Row, case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.throttling.models import AttemptCounter
from shared.db import upsert_insert


async def live_counters(
    session: AsyncSession, keys: Collection[str], now: dt.datetime
) -> Sequence[Row[str, int, dt.datetime]]:
    """Key, count and window end of those of the counters whose window is still open."""
    rows = await session.execute(
        select(
            AttemptCounter.key, AttemptCounter.count, AttemptCounter.window_ends_at
        ).where(AttemptCounter.key.in_(keys), AttemptCounter.window_ends_at > now)
    )
    return rows.all()


async def delete_ended(session: AsyncSession, now: dt.datetime) -> None:
    """Every counter whose window ended by `now`."""
    await session.execute(
        delete(AttemptCounter).where(AttemptCounter.window_ends_at <= now)
    )


async def add(
    session: AsyncSession,
    key: str,
    *,
    amount: int,
    window: dt.timedelta,
    now: dt.datetime,
) -> tuple[int, dt.datetime]:
    """Add `amount` to the counter, which starts a window when it has none open; returns
    its count and window end."""
    new = upsert_insert(session, AttemptCounter).values(
        key=key, count=amount, window_ends_at=now + window
    )
    # A window that ended (and was not deleted yet, by a concurrent transaction)
    # starts again.
    expired = AttemptCounter.window_ends_at <= now
    upsert = new.on_conflict_do_update(
        index_elements=[AttemptCounter.key],
        set_={
            "count": case((expired, amount), else_=AttemptCounter.count + amount),
            "window_ends_at": case(
                (expired, new.excluded.window_ends_at),
                else_=AttemptCounter.window_ends_at,
            ),
        },
    ).returning(AttemptCounter.count, AttemptCounter.window_ends_at)
    counted, ends_at = (await session.execute(upsert)).one()
    return counted, ends_at


async def delete_counters(session: AsyncSession, keys: Collection[str]) -> None:
    """The counters of `keys`, with all they counted."""
    await session.execute(delete(AttemptCounter).where(AttemptCounter.key.in_(keys)))


async def take_back_one(session: AsyncSession, keys: Collection[str]) -> None:
    """One attempt less on each of the counters that has any."""
    await session.execute(
        update(AttemptCounter)
        .where(AttemptCounter.key.in_(keys), AttemptCounter.count > 0)
        .values(count=AttemptCounter.count - 1)
    )
