"""The queries of the delivery queue: what is due to be sent to a CRM now, and what waits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Exists,
    and_,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm_adapter.cases.models import (
    ActionState,
    Case,
    CaseAction,
    CaseState,
    DelayTold,
)
from crm_adapter.deliveries.models import ConnectorBreaker, DeliveryAttempt, Outcome
from shared.contracts import ReportStatus


def earlier_action_not_done() -> Exists:
    """Whether an earlier action of the same case is not done: an action waits for it
    (a case's actions reach the CRM one after the other, in order)."""
    earlier = aliased(CaseAction)
    return (
        select(earlier.seq)
        .where(
            earlier.case_id == CaseAction.case_id,
            earlier.seq < CaseAction.seq,
            earlier.state != ActionState.DONE,
        )
        .exists()
    )


def waiting_out_a_retry(
    model: type[Case] | type[CaseAction], now: dt.datetime
) -> ColumnElement[bool]:
    """Pending, not due yet, and its last attempt ended in a retry: it waits out a delay
    (rather than being under way, which also moves its due time ahead)."""
    any_attempt = aliased(DeliveryAttempt)
    last = (
        select(func.max(any_attempt.id))
        .where(any_attempt.delivery_id == model.id)
        .correlate(model)
        .scalar_subquery()
    )
    ended_in_retry = (
        select(DeliveryAttempt.id)
        .where(
            DeliveryAttempt.id == last,
            DeliveryAttempt.attempt == model.attempts,
            DeliveryAttempt.outcome == Outcome.RETRY.value,
        )
        .correlate(model)
        .exists()
    )
    return and_(model.state == "pending", model.next_attempt_at > now, ended_in_retry)


async def pending_of(
    session: AsyncSession, connector: str, *, waiting_at: dt.datetime | None = None
) -> tuple[Sequence[Case], Sequence[CaseAction]]:
    """The connector's pending creations and actions (with `waiting_at`, only those waiting
    out a retry then), locked; rows another transaction holds (an attempt being recorded)
    are skipped rather than waited for."""
    case_due = [Case.connector == connector, Case.state == CaseState.PENDING]
    action_due = [Case.connector == connector, CaseAction.state == ActionState.PENDING]
    if waiting_at is not None:
        case_due = [Case.connector == connector, waiting_out_a_retry(Case, waiting_at)]
        action_due = [
            Case.connector == connector,
            waiting_out_a_retry(CaseAction, waiting_at),
        ]
    cases = await session.scalars(
        select(Case).where(*case_due).with_for_update(skip_locked=True)
    )
    actions = await session.scalars(
        select(CaseAction)
        .join(Case, Case.id == CaseAction.case_id)
        .where(*action_due)
        .with_for_update(skip_locked=True, of=CaseAction)
    )
    return cases.all(), actions.all()


async def due_cases(
    session: AsyncSession,
    now: dt.datetime,
    *,
    limit: int,
    skip: Collection[str] = (),
    connector: str | None = None,
) -> Sequence[Case]:
    """Up to `limit` cases due to be created in their CRM, locked (skipping those another
    worker holds), of `connector` only or of any connector but those in `skip`."""
    query = (
        select(Case)
        .where(Case.state == CaseState.PENDING, Case.next_attempt_at <= now)
        .order_by(Case.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if skip:
        query = query.where(Case.connector.not_in(skip))
    if connector is not None:
        query = query.where(Case.connector == connector)
    return (await session.scalars(query)).all()


async def due_actions(
    session: AsyncSession,
    now: dt.datetime,
    *,
    limit: int,
    skip: Collection[str] = (),
    connector: str | None = None,
) -> Sequence[tuple[CaseAction, Case]]:
    """Up to `limit` actions due for their CRM case, with their case: the case exists in the
    CRM and every earlier action of it is done; locked as `due_cases` says."""
    query = (
        select(CaseAction, Case)
        .join(Case, Case.id == CaseAction.case_id)
        .where(
            CaseAction.state == ActionState.PENDING,
            CaseAction.next_attempt_at <= now,
            Case.state == CaseState.CREATED,
            Case.crm_case_id.is_not(None),
            ~earlier_action_not_done(),
        )
        .order_by(CaseAction.seq)
        .limit(limit)
        # SQLite ignores this; there the claim is exclusive through BEGIN IMMEDIATE.
        .with_for_update(skip_locked=True, of=CaseAction)
    )
    if skip:
        query = query.where(Case.connector.not_in(skip))
    if connector is not None:
        query = query.where(Case.connector == connector)
    return [(action, case) for action, case in (await session.execute(query)).all()]


@dataclass(frozen=True)
class HeldUp:
    """A case whose creation is held up, as its resident is to be told."""

    case: Case
    since: dt.datetime
    dead: bool


async def held_up(
    session: AsyncSession, *, now: dt.datetime, notice_after: dt.timedelta, limit: int
) -> list[HeldUp]:
    """Up to `limit` cases whose creation is held up and whose resident was not told so
    yet, locked (skipping those another worker holds): the dead, the failing for longer
    than `notice_after`, and those never tried while their connector's breaker has been
    open for that long (an open breaker makes no attempts, so none of this waits for one).
    Only cases still `received` for their resident count: one the CRM has is not late."""
    cutoff = now - notice_after
    untold = [Case.status == ReportStatus.RECEIVED.value]
    found: list[HeldUp] = []

    async def locked(*where: ColumnElement[bool]) -> Sequence[Case]:
        query = (
            select(Case)
            .where(*untold, *where)
            .order_by(Case.submitted_at, Case.id)
            .limit(limit - len(found))
            .with_for_update(skip_locked=True)
        )
        return (await session.scalars(query)).all() if len(found) < limit else []

    for case in await locked(
        Case.state == CaseState.DEAD, Case.delay_told.is_distinct_from(DelayTold.DEAD)
    ):
        found.append(HeldUp(case, case.failing_since or case.updated_at, dead=True))
    pending = [Case.state == CaseState.PENDING, Case.delay_told.is_(None)]
    for case in await locked(*pending, Case.failing_since <= cutoff):
        assert case.failing_since is not None
        found.append(HeldUp(case, case.failing_since, dead=False))
    opened = await _open_since(session, cutoff)
    for case in await locked(
        *pending,
        Case.failing_since.is_(None),
        Case.attempts == 0,
        # Never tried: due since it was queued (or replayed, or routed at last).
        Case.next_attempt_at <= cutoff,
        Case.connector.in_(opened),
    ):
        assert case.connector is not None
        since = max(case.next_attempt_at, opened[case.connector])
        found.append(HeldUp(case, since, dead=False))
    return found


async def _open_since(
    session: AsyncSession, cutoff: dt.datetime
) -> dict[str, dt.datetime]:
    """The connectors whose breaker has been open (or half-open) since `cutoff` or
    earlier, with the time it opened."""
    rows = await session.execute(
        select(ConnectorBreaker.connector, ConnectorBreaker.opened_at).where(
            ConnectorBreaker.open_until.is_not(None),
            ConnectorBreaker.opened_at <= cutoff,
        )
    )
    return {
        connector: opened_at for connector, opened_at in rows if opened_at is not None
    }
