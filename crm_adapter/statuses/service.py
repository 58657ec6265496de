"""Operators' work on the status mapping table, and releasing held changes once mapped."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case
from crm_adapter.crm.mapping import default_connectors
from crm_adapter.crm.models import StatusMapping
from crm_adapter.operators import audit
from crm_adapter.routing.models import Unit
from crm_adapter.statuses.apply import apply_crm_change
from crm_adapter.statuses.exceptions import StatusMappingNotFound, UnknownConnector
from crm_adapter.statuses.held import change_of
from crm_adapter.statuses.models import HeldChange
from shared.contracts import ReportStatus
from shared.db import upsert_insert, utcnow
from shared.operators import Operator

logger = logging.getLogger(__name__)


async def list_mappings(
    session: AsyncSession, connector: str | None = None
) -> Sequence[StatusMapping]:
    query = select(StatusMapping).where(StatusMapping.status.is_not(None))
    if connector is not None:
        query = query.where(StatusMapping.connector == connector)
    return (
        await session.scalars(
            query.order_by(StatusMapping.connector, StatusMapping.crm_code)
        )
    ).all()


async def _check_connector(session: AsyncSession, connector: str) -> None:
    if connector in default_connectors():
        return
    used = await session.scalar(
        select(Unit.code).where(Unit.connector == connector).limit(1)
    )
    if used is None:
        raise UnknownConnector(connector=connector)


async def set_mapping(
    session: AsyncSession,
    operator: Operator,
    *,
    connector: str,
    code: str,
    status: ReportStatus,
) -> tuple[StatusMapping, int]:
    """Map the code, apply the changes held for it, and record both; (mapping, applied)."""
    await _check_connector(session, connector)
    # Two operators mapping a new code at once: one inserts, both then lock the row.
    await session.execute(
        upsert_insert(session, StatusMapping)
        .values(connector=connector, crm_code=code, status=None, changed_at=utcnow())
        .on_conflict_do_nothing()
    )
    mapping = await session.scalar(
        select(StatusMapping)
        .where(StatusMapping.connector == connector, StatusMapping.crm_code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert mapping is not None
    previous = mapping.status
    mapping.status = status.value
    mapping.changed_by = operator.name
    mapping.changed_at = utcnow()
    await session.flush()
    released = await _reapply(session, connector=connector, code=code)
    row = audit.record(
        session,
        operator,
        action="status_mapping.set",
        target_type="status_mapping",
        target_id=f"{connector}/{code}",
        details={
            "status": status.value,
            "previous": previous,
            "reapplied": [held.update_id for held in released],
        },
    )
    await audit.commit(session, row)
    return mapping, len(released)


async def delete_mapping(
    session: AsyncSession, operator: Operator, *, connector: str, code: str
) -> None:
    """Unmap the code: its later changes are held again. The row stays without a status,
    so that the connector's default file does not bring the mapping back."""
    mapping = await session.get(StatusMapping, (connector, code), with_for_update=True)
    if mapping is None or mapping.status is None:
        raise StatusMappingNotFound(connector=connector, code=code)
    previous = mapping.status
    mapping.status = None
    mapping.changed_by = operator.name
    mapping.changed_at = utcnow()
    row = audit.record(
        session,
        operator,
        action="status_mapping.delete",
        target_type="status_mapping",
        target_id=f"{connector}/{code}",
        details={"previous": previous},
    )
    await audit.commit(session, row)


def _selection(connector: str | None, code: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [HeldChange.reapplied_at.is_(None)]
    if connector is not None:
        conditions.append(HeldChange.connector == connector)
    if code is not None:
        conditions.append(HeldChange.crm_code == code)
    return conditions


@dataclass(frozen=True)
class UnmappedCode:
    connector: str
    crm_code: str
    held: int
    first_held_at: dt.datetime
    last_held_at: dt.datetime


async def unmapped(
    session: AsyncSession, *, connector: str | None, code: str | None, limit: int
) -> tuple[list[UnmappedCode], list[tuple[HeldChange, uuid.UUID]]]:
    """The unmapped codes with their held changes' count, the longest waiting first; and the
    held changes with their report's id, oldest first.

    One statement reads both, so that the counts and the list agree even while changes
    are being held or released: each row carries its code's count and times, and only the
    first `limit` rows and each code's first row come back.
    """
    per_code = (HeldChange.connector, HeldChange.crm_code)
    ranked = (
        select(
            HeldChange.id.label("held_id"),
            Case.report_id.label("report_id"),
            func.count().over(partition_by=per_code).label("held"),
            func.min(HeldChange.held_at).over(partition_by=per_code).label("first"),
            func.max(HeldChange.held_at).over(partition_by=per_code).label("last"),
            func.row_number().over(order_by=HeldChange.id).label("position"),
            func.row_number()
            .over(partition_by=per_code, order_by=HeldChange.id)
            .label("position_in_code"),
        )
        .join(Case, Case.id == HeldChange.case_id)
        .where(*_selection(connector, code))
        .subquery()
    )
    rows = (
        await session.execute(
            select(HeldChange, ranked)
            .join(ranked, ranked.c.held_id == HeldChange.id)
            .where((ranked.c.position <= limit) | (ranked.c.position_in_code == 1))
            .order_by(HeldChange.id)
        )
    ).all()
    codes = sorted(
        (
            UnmappedCode(
                connector=row.HeldChange.connector,
                crm_code=row.HeldChange.crm_code,
                held=row.held,
                first_held_at=row.first,
                last_held_at=row.last,
            )
            for row in rows
            if row.position_in_code == 1
        ),
        key=lambda c: (c.first_held_at, c.connector),
    )
    items = [(row.HeldChange, row.report_id) for row in rows if row.position <= limit]
    return codes, items


async def reapply(
    session: AsyncSession,
    operator: Operator,
    *,
    connector: str | None,
    code: str | None,
) -> tuple[int, int]:
    """Apply the selected held changes whose code is mapped now; (applied, still held)."""
    released = await _reapply(session, connector=connector, code=code)
    still = await session.scalar(
        select(func.count()).select_from(HeldChange).where(*_selection(connector, code))
    )
    row = audit.record(
        session,
        operator,
        action="held_changes.reapply",
        target_type="held_changes",
        target_id=f"{connector or '*'}/{code or '*'}",
        details={"reapplied": [held.update_id for held in released]},
    )
    await audit.commit(session, row)
    return len(released), still or 0


async def _reapply(
    session: AsyncSession, *, connector: str | None, code: str | None
) -> list[HeldChange]:
    """Apply, in the order they came, the held changes of the selection whose code is mapped
    now; each goes through `apply_crm_change`, so one older than what its case has by now
    changes nothing. Returns the changes released."""
    query = (
        select(HeldChange)
        .join(
            StatusMapping,
            and_(
                StatusMapping.connector == HeldChange.connector,
                StatusMapping.crm_code == HeldChange.crm_code,
            ),
        )
        .where(*_selection(connector, code), StatusMapping.status.is_not(None))
        .order_by(HeldChange.id)
        .with_for_update(of=HeldChange)
    )
    released = list((await session.scalars(query)).all())
    now = utcnow()
    for held in released:
        await apply_crm_change(session, change_of(held), held.connector)
        held.reapplied_at = now
    if released:
        logger.info("held_changes.reapplied", extra={"count": len(released)})
    return released
