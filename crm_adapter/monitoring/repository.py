"""Reading cases for operators, SLA figures and metrics; never writes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, func, not_, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case, CaseState
from crm_adapter.deliveries.models import DeliveryAttempt
from crm_adapter.monitoring.stats import CaseTimes
from crm_adapter.routing.models import Unit
from shared.contracts import ReportStatus
from shared.pagination import PageKey

AnySelect = Select[*tuple[Any, ...]]

CLOSED = [ReportStatus.RESOLVED.value, ReportStatus.REJECTED.value]


def overdue(now: dt.datetime) -> ColumnElement[bool]:
    """Open (neither resolved nor rejected) and past its due time, at `now`."""
    return and_(Case.status.not_in(CLOSED), Case.due_at < now)


@dataclass(frozen=True)
class CaseFilter:
    unit: str | None = None
    category: str | None = None
    status: ReportStatus | None = None
    state: CaseState | None = None
    overdue: bool | None = None
    since: dt.datetime | None = None
    """Submitted at or after."""
    until: dt.datetime | None = None
    """Submitted before."""
    report_id: uuid.UUID | None = None
    number: str | None = None


def _filtered(
    query: AnySelect, filters: CaseFilter, *, now: dt.datetime, after: PageKey | None
) -> AnySelect:
    """The query of cases narrowed to the filters, newest first (by submission), after the
    keyset `after`."""
    if filters.unit is not None:
        query = query.where(Case.unit_code == filters.unit)
    if filters.category is not None:
        query = query.where(Case.category == filters.category)
    if filters.status is not None:
        query = query.where(Case.status == filters.status.value)
    if filters.state is not None:
        query = query.where(Case.state == filters.state.value)
    if filters.overdue is not None:
        late = overdue(now)
        query = query.where(late if filters.overdue else not_(late))
    if filters.since is not None:
        query = query.where(Case.submitted_at >= filters.since)
    if filters.until is not None:
        query = query.where(Case.submitted_at < filters.until)
    if filters.report_id is not None:
        query = query.where(Case.report_id == filters.report_id)
    if filters.number is not None:
        query = query.where(Case.report_number == filters.number)
    if after is not None:
        query = query.where(
            or_(
                Case.submitted_at < after.created_at,
                and_(Case.submitted_at == after.created_at, Case.id < after.id),
            )
        )
    return query.order_by(Case.submitted_at.desc(), Case.id.desc())


async def list_cases(
    session: AsyncSession,
    *,
    filters: CaseFilter,
    now: dt.datetime,
    after: PageKey | None,
    limit: int,
) -> list[Case]:
    """Cases newest first (by submission), after the keyset `after`."""
    query = _filtered(select(Case), filters, now=now, after=after).limit(limit)
    found: Sequence[Case] = (await session.scalars(query)).all()
    return list(found)


EXPORTED = (
    Case.id,
    Case.report_id,
    Case.report_number,
    Case.category,
    Case.unit_code,
    Case.connector,
    Case.crm_case_id,
    Case.crm_status,
    Case.status,
    Case.state,
    Case.attempts,
    Case.last_error,
    Case.failing_since,
    Case.delay_told,
    Case.submitted_at,
    Case.created_at,
    Case.due_at,
    Case.closed_at,
    Case.updated_at,
)
"""What the CSV export reads of a case: no description, photos or contact data."""


async def exported_cases(
    session: AsyncSession,
    *,
    filters: CaseFilter,
    now: dt.datetime,
    after: PageKey | None,
    limit: int,
) -> Sequence[Row[tuple[Any, ...]]]:
    """Up to `limit` cases' `EXPORTED` columns, in `list_cases` order after `after`."""
    query = _filtered(select(*EXPORTED), filters, now=now, after=after).limit(limit)
    rows: Sequence[Row[tuple[Any, ...]]] = (await session.execute(query)).all()
    return rows


async def get_case(session: AsyncSession, case_or_report_id: uuid.UUID) -> Case | None:
    """The case with this id, or the case of the report with this id."""
    return await session.scalar(
        select(Case).where(
            or_(Case.id == case_or_report_id, Case.report_id == case_or_report_id)
        )
    )


async def case_times(
    session: AsyncSession, *, since: dt.datetime, until: dt.datetime
) -> list[CaseTimes]:
    """What the SLA figures need of each case submitted in `[since, until)`."""
    query = select(
        Case.unit_code,
        Case.category,
        Case.status,
        Case.submitted_at,
        Case.due_at,
        Case.closed_at,
    ).where(Case.submitted_at >= since, Case.submitted_at < until)
    return [
        CaseTimes(unit, category, status, submitted_at, due_at, closed_at)
        for unit, category, status, submitted_at, due_at, closed_at in (
            await session.execute(query)
        )
    ]


async def count_by_state_and_status(
    session: AsyncSession,
) -> list[tuple[str, str, int]]:
    query = select(Case.state, Case.status, func.count()).group_by(
        Case.state, Case.status
    )
    return [(state, status, n) for state, status, n in await session.execute(query)]


async def open_by_unit(
    session: AsyncSession, *, now: dt.datetime
) -> list[tuple[str | None, int, int]]:
    """Per unit: open cases, and how many of them are overdue."""
    late = func.coalesce(func.sum(sql_case((Case.due_at < now, 1), else_=0)), 0)
    query = (
        select(Case.unit_code, func.count(), late)
        .where(Case.status.not_in(CLOSED))
        .group_by(Case.unit_code)
    )
    return [(unit, n, int(late)) for unit, n, late in await session.execute(query)]


async def dead_by_unit(session: AsyncSession) -> list[tuple[str | None, int]]:
    query = (
        select(Case.unit_code, func.count())
        .where(Case.state == CaseState.DEAD.value)
        .group_by(Case.unit_code)
    )
    return [(unit, n) for unit, n in await session.execute(query)]


async def unit_codes(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Unit.code).order_by(Unit.code))).all())


async def attempts_by_outcome(
    session: AsyncSession,
) -> list[tuple[str, str, str, int]]:
    """Every attempt the delivery log holds: (connector, kind, outcome, how many)."""
    # No index serves this: one pass over `delivery_attempts`, an attempt a row (about one
    # per case and action, more while a CRM fails); `mam_adapter_cases` reads all of
    # `cases` as well.
    a = DeliveryAttempt
    rows = await session.execute(
        select(a.connector, a.kind, a.outcome, func.count()).group_by(
            a.connector, a.kind, a.outcome
        )
    )
    return [(c, str(k), str(o), n) for c, k, o, n in rows]
