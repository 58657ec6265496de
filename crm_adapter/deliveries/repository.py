"""Reading deliveries: a case's creation and its actions, as one list."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    Row,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import ActionState, Case, CaseAction, CaseState
from crm_adapter.crm.models import PollCursor
from crm_adapter.deliveries import queue
from crm_adapter.deliveries.models import ConnectorBreaker, DeliveryAttempt, Outcome
from shared.pagination import PageKey

_creations = select(
    Case.id.label("id"),
    literal("create", String(20)).label("kind"),
    Case.id.label("case_id"),
    Case.report_id.label("report_id"),
    Case.connector.label("connector"),
    case(
        (Case.state == CaseState.CREATED, literal("done", String(20))), else_=Case.state
    ).label("state"),
    Case.attempts.label("attempts"),
    Case.last_error.label("last_error"),
    Case.next_attempt_at.label("next_attempt_at"),
    Case.created_at.label("created_at"),
    Case.updated_at.label("updated_at"),
    literal(0).label("seq"),
).where(Case.state != CaseState.UNROUTABLE)

_actions = select(
    CaseAction.id,
    CaseAction.kind,
    CaseAction.case_id,
    Case.report_id,
    Case.connector,
    CaseAction.state,
    CaseAction.attempts,
    CaseAction.last_error,
    CaseAction.next_attempt_at,
    CaseAction.created_at,
    CaseAction.updated_at,
    CaseAction.seq,
).join(Case, Case.id == CaseAction.case_id)

DELIVERIES = union_all(_creations, _actions).subquery("deliveries")
"""Every delivery, with the columns of `DeliveryRead` (and `seq`, ordering a case's)."""


async def page(
    session: AsyncSession,
    *,
    state: str | None,
    kind: str | None,
    connector: str | None,
    after: PageKey | None,
    limit: int,
) -> Sequence[Row[tuple[object, ...]]]:
    d = DELIVERIES.c
    query = select(DELIVERIES)
    if state is not None:
        query = query.where(d.state == state)
    if kind is not None:
        query = query.where(d.kind == kind)
    if connector is not None:
        query = query.where(d.connector == connector)
    if after is not None:
        query = query.where(
            or_(
                d.created_at < after.created_at,
                and_(d.created_at == after.created_at, d.id < after.id),
            )
        )
    query = query.order_by(d.created_at.desc(), d.id.desc()).limit(limit)
    return (await session.execute(query)).all()


async def one(
    session: AsyncSession, delivery_id: uuid.UUID
) -> Row[tuple[object, ...]] | None:
    return (
        await session.execute(select(DELIVERIES).where(DELIVERIES.c.id == delivery_id))
    ).first()


async def of_case(
    session: AsyncSession, case_id: uuid.UUID
) -> Sequence[Row[tuple[object, ...]]]:
    d = DELIVERIES.c
    query = select(DELIVERIES).where(d.case_id == case_id).order_by(d.seq)
    return (await session.execute(query)).all()


async def attempts(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[DeliveryAttempt]]:
    rows = await session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(delivery_ids))
        .order_by(DeliveryAttempt.id)
    )
    found: dict[uuid.UUID, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
    for row in rows:
        found[row.delivery_id].append(row)
    return found


def _dead_at() -> ColumnElement[dt.datetime]:
    """When a dead delivery became dead: the start of its last attempt that ended dead (its
    last change for one dead before the delivery log was kept)."""
    d = DELIVERIES.c
    last_dead = (
        select(func.max(DeliveryAttempt.started_at))
        .where(
            DeliveryAttempt.delivery_id == d.id,
            DeliveryAttempt.outcome == Outcome.DEAD.value,
        )
        .correlate(DELIVERIES)
        .scalar_subquery()
    )
    return func.coalesce(last_dead, d.updated_at)


async def dead(
    session: AsyncSession,
    *,
    report_id: uuid.UUID | None,
    connector: str | None,
    kind: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    limit: int,
) -> list[tuple[uuid.UUID, str]]:
    """The ids and kinds of the dead deliveries that match, oldest first."""
    d = DELIVERIES.c
    query = select(d.id, d.kind).where(d.state == "dead")
    if report_id is not None:
        query = query.where(d.report_id == report_id)
    if connector is not None:
        query = query.where(d.connector == connector)
    if kind is not None:
        query = query.where(d.kind == kind)
    if since is not None:
        query = query.where(_dead_at() >= since)
    if until is not None:
        query = query.where(_dead_at() < until)
    query = query.order_by(d.created_at, d.seq, d.id).limit(limit)
    return [(id_, kind_) for id_, kind_ in await session.execute(query)]


async def count_waiting(
    session: AsyncSession,
) -> list[tuple[str | None, str, str, int]]:
    """Pending and dead deliveries: (connector, kind, state, how many)."""
    d = DELIVERIES.c
    query = (
        select(d.connector, d.kind, d.state, func.count())
        .where(d.state.in_(["pending", "dead"]))
        .group_by(d.connector, d.kind, d.state)
    )
    return [(c, k, s, n) for c, k, s, n in await session.execute(query)]


async def oldest_due(
    session: AsyncSession, *, now: dt.datetime
) -> dict[str | None, dt.datetime]:
    """Per connector, the earliest due time of a pending delivery a claimer may take now
    (breakers aside): a case's creation, or an action whose case is in the CRM and whose
    earlier actions are done, as the pusher and the forwarder claim them."""
    found: dict[str | None, dt.datetime] = {}
    cases = (
        select(Case.connector, func.min(Case.next_attempt_at))
        .where(Case.state == CaseState.PENDING, Case.next_attempt_at <= now)
        .group_by(Case.connector)
    )
    actions = (
        select(Case.connector, func.min(CaseAction.next_attempt_at))
        .join(Case, Case.id == CaseAction.case_id)
        .where(
            CaseAction.state == ActionState.PENDING,
            CaseAction.next_attempt_at <= now,
            Case.state == CaseState.CREATED,
            Case.crm_case_id.is_not(None),
            ~queue.earlier_action_not_done(),
        )
        .group_by(Case.connector)
    )
    for query in (cases, actions):
        for connector, due in await session.execute(query):
            if due is not None:
                found[connector] = min(due, found.get(connector, due))
    return found


async def dead_cases(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[Case]:
    """Those of the cases `ids` whose creation is dead, locked."""
    return (
        await session.scalars(
            select(Case)
            .where(Case.id.in_(ids), Case.state == CaseState.DEAD)
            .with_for_update()
        )
    ).all()


async def dead_actions(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> Sequence[CaseAction]:
    """Those of the actions `ids` that are dead, locked."""
    return (
        await session.scalars(
            select(CaseAction)
            .where(CaseAction.id.in_(ids), CaseAction.state == ActionState.DEAD)
            .with_for_update()
        )
    ).all()


async def case_by_id_or_report(session: AsyncSession, id_: uuid.UUID) -> Case | None:
    """The case with this id, or the case of the report with this id."""
    return await session.get(Case, id_) or await session.scalar(
        select(Case).where(Case.report_id == id_)
    )


async def delivery_to_replay(
    session: AsyncSession, delivery_id: uuid.UUID
) -> Case | CaseAction | None:
    """The creation (a routed case) or the action with this id, locked."""
    case = await session.scalar(
        select(Case)
        .where(Case.id == delivery_id, Case.state != CaseState.UNROUTABLE)
        .with_for_update()
    )
    if case is not None:
        return case
    return await session.scalar(
        select(CaseAction).where(CaseAction.id == delivery_id).with_for_update()
    )


async def breakers(session: AsyncSession) -> dict[str, ConnectorBreaker]:
    """Every connector's breaker row, by connector."""
    rows = await session.scalars(select(ConnectorBreaker))
    return {row.connector: row for row in rows}


async def poll_cursors(session: AsyncSession) -> dict[str, PollCursor]:
    """Every poller's cursor row, by connector."""
    rows = await session.scalars(select(PollCursor))
    return {row.connector: row for row in rows}


async def kept_for(session: AsyncSession, connector: str) -> bool:
    """Whether a breaker or a poller's cursor is kept for the connector."""
    if await session.get(ConnectorBreaker, connector) is not None:
        return True
    return await session.get(PollCursor, connector) is not None
