"""Each connector's circuit breaker, kept in the database so every process shares it.

After `failures` consecutive failed attempts (or at once on 401/403: our credentials are
wrong), the breaker opens: the pusher and the forwarder claim nothing for that connector, so
no delivery burns an attempt or its retry budget while the CRM is down. When the open period
ends, the next claimer takes one due delivery as a probe (half-open), held for as long as
its claim's lease, which is renewed while the probe's call runs: its success closes the
breaker, its failure opens it again for twice as long, up to `max_open`. When a breaker closes,
the budget clocks of the connector's waiting deliveries move forward by the time it was open.

Operators may also trip a breaker by hand, for a while or until they reset it (`trip`,
`reset`): while such a period lasts, an attempt still under way neither closes the breaker nor
moves its end; once it is over, the breaker goes half-open and probes as usual.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.config import BreakerPolicy
from crm_adapter.deliveries.models import ConnectorBreaker
from shared.db import upsert_insert, utcnow

logger = logging.getLogger(__name__)


UNTIL_RESET = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
"""The `open_until` of a breaker an operator tripped with no end: open until reset."""


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


def state_of(breaker: ConnectorBreaker | None, now: dt.datetime) -> BreakerState:
    if breaker is None or breaker.open_until is None:
        return BreakerState.CLOSED
    return BreakerState.OPEN if now < breaker.open_until else BreakerState.HALF_OPEN


@dataclass(frozen=True)
class Gate:
    """What a claimer may take: nothing from `blocked`, one probe from each of `probing`."""

    blocked: frozenset[str]
    probing: frozenset[str]


async def gate(session: AsyncSession, now: dt.datetime) -> Gate:
    """Lock the breakers that are not closed and say which connectors may be claimed from.

    The caller claims from a half-open connector at most one delivery and, if it found one,
    calls `start_probe` in the same transaction.
    """
    rows = await session.scalars(
        select(ConnectorBreaker)
        .where(ConnectorBreaker.open_until.is_not(None))
        .with_for_update()
    )
    blocked, probing = set(), set()
    for row in rows:
        state = state_of(row, now)
        blocked.add(row.connector)
        if state == BreakerState.HALF_OPEN:
            probing.add(row.connector)
    return Gate(frozenset(blocked), frozenset(probing))


async def start_probe(
    session: AsyncSession, connector: str, *, now: dt.datetime, lease: dt.timedelta
) -> None:
    """The claimed delivery is the probe: nobody else probes within its lease."""
    breaker = await session.get(ConnectorBreaker, connector)
    assert breaker is not None
    breaker.open_until = now + lease
    breaker.updated_at = now
    # An operator's period is over: the probe decides, as after any open period.
    breaker.tripped_by = None
    breaker.trip_reason = None
    logger.info("breaker.half_open", extra={"connector": connector})


async def renew_probe(
    session: AsyncSession, connector: str, *, now: dt.datetime, lease: dt.timedelta
) -> None:
    """The probe's call is still under way: nobody else probes for another lease.

    Only a half-open hold is moved on, and only later: a breaker closed or reset meanwhile,
    or held open by an operator, is left as it is.
    """
    await session.execute(
        update(ConnectorBreaker)
        .where(
            ConnectorBreaker.connector == connector,
            ConnectorBreaker.tripped_by.is_(None),
            ConnectorBreaker.open_until.is_not(None),
            ConnectorBreaker.open_until < now + lease,
        )
        .values(open_until=now + lease, updated_at=now)
    )


async def _locked(session: AsyncSession, connector: str) -> ConnectorBreaker:
    await session.execute(
        upsert_insert(session, ConnectorBreaker)
        .values(
            connector=connector,
            consecutive_failures=0,
            open_seconds=0.0,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["connector"])
    )
    breaker = await session.scalar(
        select(ConnectorBreaker)
        .where(ConnectorBreaker.connector == connector)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert breaker is not None
    return breaker


async def record_success(
    session: AsyncSession, connector: str, *, now: dt.datetime
) -> dt.timedelta | None:
    """Close the breaker; returns how long it had been open, if it was."""
    breaker = await session.scalar(
        select(ConnectorBreaker)
        .where(ConnectorBreaker.connector == connector)
        .with_for_update()
    )
    if breaker is None or (
        breaker.consecutive_failures == 0 and breaker.open_until is None
    ):
        return None
    if breaker.tripped_by is not None:
        return None  # an attempt made before an operator tripped it: it stays open
    was_open = now - breaker.opened_at if breaker.opened_at is not None else None
    breaker.consecutive_failures = 0
    breaker.open_until = None
    breaker.opened_at = None
    breaker.open_seconds = 0.0
    breaker.last_error = None
    breaker.updated_at = now
    if was_open is not None:
        logger.info("breaker.closed", extra={"connector": connector})
    return was_open


async def record_failure(
    session: AsyncSession,
    connector: str,
    *,
    policy: BreakerPolicy,
    now: dt.datetime,
    error: str,
    probe: bool,
    unauthorized: bool,
) -> bool:
    """Count a retryable failure; returns whether the breaker is open now."""
    breaker = await _locked(session, connector)
    breaker.consecutive_failures += 1
    breaker.last_error = error[:2048]
    breaker.updated_at = now
    if breaker.tripped_by is not None:
        return True  # held open by an operator: the end they set stands
    closed = breaker.open_until is None
    opens = closed and (unauthorized or breaker.consecutive_failures >= policy.failures)
    # A probe's failure after an operator closed the breaker counts as any other failure.
    failed_probe = probe and not closed
    if opens:
        breaker.opened_at = now
        breaker.open_seconds = policy.open_for.total_seconds()
    elif failed_probe:
        breaker.open_seconds = min(
            breaker.open_seconds * 2, policy.max_open_for.total_seconds()
        )
    if opens or failed_probe:
        breaker.open_until = now + dt.timedelta(seconds=breaker.open_seconds)
        logger.warning(
            "breaker.open",
            extra={
                "connector": connector,
                "open_seconds": breaker.open_seconds,
                "error": error,
            },
        )
    return breaker.open_until is not None


async def trip(
    session: AsyncSession,
    connector: str,
    *,
    policy: BreakerPolicy,
    now: dt.datetime,
    until: dt.datetime,
    operator: str,
    reason: str | None,
) -> ConnectorBreaker:
    """An operator opens the breaker until `until` (`UNTIL_RESET`: until they reset it)."""
    breaker = await _locked(session, connector)
    if breaker.opened_at is None or breaker.open_until is None:
        breaker.opened_at = now
    # Should the probe after the period fail, the breaker opens for the usual period.
    breaker.open_seconds = max(breaker.open_seconds, policy.open_for.total_seconds())
    breaker.open_until = until
    breaker.tripped_by = operator
    breaker.trip_reason = reason
    breaker.updated_at = now
    logger.warning(
        "breaker.tripped",
        extra={
            "connector": connector,
            "operator": operator,
            "until": None if until == UNTIL_RESET else until.isoformat(),
        },
    )
    return breaker


async def reset(
    session: AsyncSession, connector: str, *, now: dt.datetime
) -> tuple[ConnectorBreaker, dt.timedelta | None]:
    """An operator closes the breaker at once; also returns how long it had been open."""
    breaker = await _locked(session, connector)
    was_open = (
        now - breaker.opened_at
        if breaker.opened_at is not None and breaker.open_until is not None
        else None
    )
    breaker.consecutive_failures = 0
    breaker.open_until = None
    breaker.opened_at = None
    breaker.open_seconds = 0.0
    breaker.tripped_by = None
    breaker.trip_reason = None
    breaker.updated_at = now
    logger.info("breaker.reset", extra={"connector": connector})
    return breaker, was_open
