"""Recording delivery attempts, budgets, and the operators' view of deliveries."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import ActionState, Case, CaseAction, CaseState
from crm_adapter.deliveries import breaker
from crm_adapter.deliveries.models import DeliveryAttempt, Outcome
from shared.db import utcnow


@dataclass
class Timer:
    """When an attempt started, and for how long it has run."""

    started_at: dt.datetime = field(default_factory=utcnow)
    _start: float = field(default_factory=time.monotonic)

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self._start) * 1000)


def log_attempt(
    session: AsyncSession,
    *,
    delivery_id: uuid.UUID,
    case_id: uuid.UUID,
    kind: str,
    connector: str,
    attempt: int,
    timer: Timer,
    outcome: Outcome,
    http_status: int | None = None,
    error: str | None = None,
) -> None:
    """Add the attempt to the delivery log, in the caller's transaction."""
    session.add(
        DeliveryAttempt(
            delivery_id=delivery_id,
            case_id=case_id,
            kind=kind,
            connector=connector,
            attempt=attempt,
            started_at=timer.started_at,
            duration_ms=timer.elapsed_ms(),
            outcome=outcome,
            http_status=http_status,
            error=error[:2048] if error else None,
        )
    )


def budget_spent(
    row: Case | CaseAction, *, budget: dt.timedelta, now: dt.datetime
) -> bool:
    return now - (row.retry_since or row.created_at) > budget


async def resume_budgets(
    session: AsyncSession, connector: str, *, paused: dt.timedelta, now: dt.datetime
) -> None:
    """The connector's breaker was open for `paused`: that time does not count against the
    budgets of its waiting deliveries."""
    cases = await session.scalars(
        select(Case).where(Case.connector == connector, Case.state == CaseState.PENDING)
    )
    for case in cases:
        case.retry_since = min(now, (case.retry_since or case.created_at) + paused)
    actions = await session.scalars(
        select(CaseAction)
        .join(Case, Case.id == CaseAction.case_id)
        .where(Case.connector == connector, CaseAction.state == ActionState.PENDING)
    )
    for action in actions:
        action.retry_since = min(
            now, (action.retry_since or action.created_at) + paused
        )


async def crm_answered(
    session: AsyncSession, connector: str, *, now: dt.datetime
) -> None:
    """The CRM answered (took the request, or refused it for what it is): it is up, so its
    breaker closes, and the time it was open is given back to the waiting deliveries."""
    paused = await breaker.record_success(session, connector, now=now)
    if paused is not None:
        await resume_budgets(session, connector, paused=paused, now=now)
