"""Reading deliveries: a case's creation and its actions, as one list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import (
    Row,
    String,
    and_,
    case,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case, CaseAction, CaseState
from crm_adapter.deliveries.models import DeliveryAttempt
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
