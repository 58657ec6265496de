"""The queries of cases and their actions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case, CaseAction
from crm_adapter.db import InboxMessage


async def case_of_report(
    session: AsyncSession, report_id: uuid.UUID, *, lock: bool = True
) -> Case | None:
    """The report's case (locked, with `lock`)."""
    query = select(Case).where(Case.report_id == report_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def has_action(session: AsyncSession, action_id: uuid.UUID) -> bool:
    """Whether an action with this id is queued already."""
    found = await session.scalar(
        select(CaseAction.seq).where(CaseAction.id == action_id)
    )
    return found is not None


async def handovers_of(
    session: AsyncSession, report_id: uuid.UUID
) -> Sequence[InboxMessage]:
    """The inbox's copies of the report's hand-over from intake."""
    return (
        await session.scalars(
            select(InboxMessage).where(
                InboxMessage.message_type == "report.submitted.v1",
                InboxMessage.payload.contains(str(report_id)),
            )
        )
    ).all()


async def cases_named(
    session: AsyncSession,
    connector: str,
    crm_case_id: str,
    report_id: uuid.UUID | None,
    *,
    lock: bool,
) -> Sequence[Case]:
    """The connector's cases with the CRM's case id or of the report, in one statement
    (locked, and read afresh, with `lock`)."""
    names: ColumnElement[bool] = Case.crm_case_id == crm_case_id
    if report_id is not None:
        names = or_(names, Case.report_id == report_id)
    found = select(Case).where(Case.connector == connector, names).order_by(Case.id)
    if lock:
        found = found.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(found)).all()


async def is_reporters_comment(
    session: AsyncSession, case_id: uuid.UUID, note: str
) -> bool:
    """Whether `note` is the text of one of the reporter's actions on the case."""
    quoted = await session.scalar(
        select(CaseAction.seq)
        .where(CaseAction.case_id == case_id, CaseAction.comment == note)
        .limit(1)
    )
    return quoted is not None


async def any_case_at(session: AsyncSession, connector: str) -> bool:
    """Whether any case has gone to this connector."""
    found = await session.scalar(
        select(Case.id).where(Case.connector == connector).limit(1)
    )
    return found is not None
