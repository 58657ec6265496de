"""Queries of the routing table's versions and of the reports held as unroutable; never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case, CaseState
from crm_adapter.routing.models import RoutingVersion, Rule, VersionUnit
from shared.pagination import PageKey


async def any_version(session: AsyncSession) -> bool:
    return (await session.scalar(select(func.count(RoutingVersion.number)))) != 0


async def in_effect(
    session: AsyncSession, *, lock: bool = False, for_update: bool = False
) -> RoutingVersion | None:
    """The version in effect; with `lock`, its row locked: shared, or for update."""
    query = (
        select(RoutingVersion)
        .where(RoutingVersion.replaced_at.is_(None))
        .order_by(RoutingVersion.number.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(read=not for_update)
    return await session.scalar(query)


async def version(session: AsyncSession, number: int) -> RoutingVersion | None:
    return await session.get(RoutingVersion, number)


async def versions(
    session: AsyncSession, *, before: int | None, limit: int
) -> Sequence[RoutingVersion]:
    query = select(RoutingVersion).order_by(RoutingVersion.number.desc()).limit(limit)
    if before is not None:
        query = query.where(RoutingVersion.number < before)
    return (await session.scalars(query)).all()


async def units_of(session: AsyncSession, number: int) -> Sequence[VersionUnit]:
    return (
        await session.scalars(
            select(VersionUnit)
            .where(VersionUnit.version == number)
            .order_by(VersionUnit.code)
        )
    ).all()


async def unit(session: AsyncSession, number: int, code: str) -> VersionUnit | None:
    return await session.get(VersionUnit, (number, code))


async def rules_of(
    session: AsyncSession, number: int, *, category: str | None = None
) -> Sequence[Rule]:
    query = select(Rule).where(Rule.version == number).order_by(Rule.position)
    if category is not None:
        query = query.where(Rule.category == category)
    return (await session.scalars(query)).all()


async def held(session: AsyncSession) -> Sequence[Case]:
    """Every case held as unroutable, oldest first, locked for update."""
    return (
        await session.scalars(
            select(Case)
            .where(Case.state == CaseState.UNROUTABLE)
            .order_by(Case.created_at, Case.id)
            .with_for_update()
        )
    ).all()


async def held_page(
    session: AsyncSession, *, after: PageKey | None, limit: int
) -> Sequence[Case]:
    """Cases held as unroutable, newest first, after the page that ended at `after`."""
    query = (
        select(Case)
        .where(Case.state == CaseState.UNROUTABLE)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    if after is not None:
        query = query.where(
            or_(
                Case.created_at < after.created_at,
                and_(Case.created_at == after.created_at, Case.id < after.id),
            )
        )
    return (await session.scalars(query)).all()
