"""The operators' view of the CRM connectors: each one's breaker and polling, and tripping
or resetting a breaker by hand (audited)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.service import FORWARDER, PUSHER
from crm_adapter.config import BreakerPolicy
from crm_adapter.crm.models import PollCursor
from crm_adapter.deliveries import breaker, queue, repository
from crm_adapter.deliveries.breaker import UNTIL_RESET
from crm_adapter.deliveries.exceptions import (
    ConnectorNotFound,
)
from crm_adapter.deliveries.models import (
    ConnectorBreaker,
)
from crm_adapter.deliveries.schemas import (
    ConnectorRead,
    ConnectorReset,
    PollingRead,
)
from crm_adapter.deliveries.service import resume_budgets
from crm_adapter.operators import audit
from shared.db import utcnow
from shared.operators import Operator
from shared.wakeup import wake_after_commit


def _polling(
    name: str, row: PollCursor | None, polled: Mapping[str, float]
) -> PollingRead | None:
    if row is None and name not in polled:
        return None
    return PollingRead(
        enabled=name in polled,
        interval_seconds=polled.get(name),
        cursor=row.cursor if row else None,
        last_run_at=row.last_run_at if row else None,
        last_success_at=row.last_success_at if row else None,
        last_error=row.last_error if row else None,
    )


def _connector(
    name: str,
    *,
    configured: bool,
    row: ConnectorBreaker | None,
    cursor: PollCursor | None,
    polled: Mapping[str, float],
    now: dt.datetime,
) -> ConnectorRead:
    return ConnectorRead(
        name=name,
        configured=configured,
        breaker=breaker.state_of(row, now),
        consecutive_failures=row.consecutive_failures if row else 0,
        opened_at=row.opened_at if row else None,
        open_until=None
        if row is None or row.open_until == UNTIL_RESET
        else row.open_until,
        last_error=row.last_error if row else None,
        tripped_by=row.tripped_by if row else None,
        trip_reason=row.trip_reason if row else None,
        polling=_polling(name, cursor, polled),
    )


async def connectors(
    session: AsyncSession, configured: Iterable[str], polled: Mapping[str, float]
) -> list[ConnectorRead]:
    """The configured connectors and any other one a breaker or a poller's cursor was kept
    for, by name; `polled` names the connectors polled now, with their intervals."""
    now = utcnow()
    names = set(configured)
    rows = await repository.breakers(session)
    cursors = await repository.poll_cursors(session)
    return [
        _connector(
            name,
            configured=name in names,
            row=rows.get(name),
            cursor=cursors.get(name),
            polled=polled,
            now=now,
        )
        for name in sorted(names | rows.keys() | cursors.keys())
    ]


async def _known(session: AsyncSession, name: str, configured: Iterable[str]) -> None:
    if name in set(configured):
        return
    if not await repository.kept_for(session, name):
        raise ConnectorNotFound(name=name)


async def _connector_now(
    session: AsyncSession,
    name: str,
    configured: Iterable[str],
    polled: Mapping[str, float],
) -> ConnectorRead:
    [read] = [
        c for c in await connectors(session, configured, polled) if c.name == name
    ]
    return read


async def trip(
    session: AsyncSession,
    operator: Operator,
    name: str,
    *,
    configured: Iterable[str],
    polled: Mapping[str, float],
    policy: BreakerPolicy,
    seconds: float | None,
    reason: str | None,
) -> ConnectorRead:
    """Open the connector's breaker by hand: for `seconds`, or until reset."""
    configured = list(configured)
    await _known(session, name, configured)
    now = utcnow()
    until = UNTIL_RESET if seconds is None else now + dt.timedelta(seconds=seconds)
    await breaker.trip(
        session,
        name,
        policy=policy,
        now=now,
        until=until,
        operator=operator.name,
        reason=reason,
    )
    entry = audit.record(
        session,
        operator,
        action="connector.trip",
        target_type="connector",
        target_id=name,
        details={"seconds": seconds, "reason": reason},
    )
    await audit.commit(session, entry)
    return await _connector_now(session, name, configured, polled)


async def reset(
    session: AsyncSession,
    operator: Operator,
    name: str,
    *,
    configured: Iterable[str],
    polled: Mapping[str, float],
    reason: str | None,
) -> ConnectorReset:
    """Close the connector's breaker at once and make its deliveries that wait out a retry
    delay due now; the time it was open is given back to their retry budgets."""
    configured = list(configured)
    await _known(session, name, configured)
    now = utcnow()
    _, paused = await breaker.reset(session, name, now=now)
    if paused is not None:
        await resume_budgets(session, name, paused=paused, now=now)
    # Rows held by an attempt being recorded are skipped: they are not waiting anyway.
    cases, actions = await queue.pending_of(session, name, waiting_at=now)
    for case in cases:
        case.next_attempt_at = now
    for action in actions:
        action.next_attempt_at = now
    released = len(cases) + len(actions)
    wake_after_commit(session, PUSHER)
    wake_after_commit(session, FORWARDER)
    entry = audit.record(
        session,
        operator,
        action="connector.reset",
        target_type="connector",
        target_id=name,
        details={
            "reason": reason,
            "was_open_seconds": None if paused is None else paused.total_seconds(),
            "deliveries_due_now": released,
        },
    )
    await audit.commit(session, entry)
    read = await _connector_now(session, name, configured, polled)
    return ConnectorReset(**read.model_dump(), deliveries_due_now=released)
