"""The queries of the status mappings and of the changes held for want of one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case
from crm_adapter.crm.models import StatusMapping
from crm_adapter.routing.models import Unit
from crm_adapter.statuses.models import HeldChange
from shared.db import upsert_insert, utcnow


async def mappings(
    session: AsyncSession, connector: str | None = None
) -> Sequence[StatusMapping]:
    """The mapped codes (of one connector), by connector and code."""
    query = select(StatusMapping).where(StatusMapping.status.is_not(None))
    if connector is not None:
        query = query.where(StatusMapping.connector == connector)
    return (
        await session.scalars(
            query.order_by(StatusMapping.connector, StatusMapping.crm_code)
        )
    ).all()


async def connector_in_use(session: AsyncSession, connector: str) -> bool:
    """Whether a unit of the routing table sends its cases to this connector."""
    used = await session.scalar(
        select(Unit.code).where(Unit.connector == connector).limit(1)
    )
    return used is not None


async def mapping_to_set(
    session: AsyncSession, connector: str, code: str
) -> StatusMapping:
    """The code's mapping row, locked; made (without a status) if there is none. Two
    operators mapping a new code at once: one inserts, both then lock the row."""
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
    return mapping


async def mapping(
    session: AsyncSession, connector: str, code: str
) -> StatusMapping | None:
    """The code's mapping row, locked, or None."""
    return await session.get(StatusMapping, (connector, code), with_for_update=True)


def held_selection(
    connector: str | None, code: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [HeldChange.reapplied_at.is_(None)]
    if connector is not None:
        conditions.append(HeldChange.connector == connector)
    if code is not None:
        conditions.append(HeldChange.crm_code == code)
    return conditions


async def held_ranked(
    session: AsyncSession, *, connector: str | None, code: str | None, limit: int
) -> Sequence[Row[Any]]:
    """The held changes of the selection, oldest first, each with its report's id, its
    code's count and times, its position and its position in its code: only the first
    `limit` and each code's first come back (one statement, so counts and list agree)."""
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
        .where(*held_selection(connector, code))
        .subquery()
    )
    return (
        await session.execute(
            select(HeldChange, ranked)
            .join(ranked, ranked.c.held_id == HeldChange.id)
            .where((ranked.c.position <= limit) | (ranked.c.position_in_code == 1))
            .order_by(HeldChange.id)
        )
    ).all()


async def held_count(
    session: AsyncSession, *, connector: str | None, code: str | None
) -> int:
    """How many changes of the selection are still held."""
    still = await session.scalar(
        select(func.count())
        .select_from(HeldChange)
        .where(*held_selection(connector, code))
    )
    return still or 0


async def held_and_mapped(
    session: AsyncSession, *, connector: str | None, code: str | None
) -> Sequence[HeldChange]:
    """The held changes of the selection whose code is mapped now, oldest first, locked."""
    query = (
        select(HeldChange)
        .join(
            StatusMapping,
            and_(
                StatusMapping.connector == HeldChange.connector,
                StatusMapping.crm_code == HeldChange.crm_code,
            ),
        )
        .where(*held_selection(connector, code), StatusMapping.status.is_not(None))
        .order_by(HeldChange.id)
        .with_for_update(of=HeldChange)
    )
    return (await session.scalars(query)).all()


async def is_held(session: AsyncSession, connector: str, update_id: str) -> bool:
    """Whether the connector's change with this update id is held already."""
    found = await session.scalar(
        select(HeldChange.id).where(
            HeldChange.connector == connector, HeldChange.update_id == update_id
        )
    )
    return found is not None
