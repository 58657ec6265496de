"""Queries on reports; never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.reports.models import Report, ReportCounter


async def next_number(session: AsyncSession, year: int) -> int:
    """The next report number of `year`; the counter row stays locked until commit."""
    insert = (
        postgresql.insert
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert
    )
    await session.execute(
        insert(ReportCounter).values(year=year, last=0).on_conflict_do_nothing()
    )
    number: int | None = await session.scalar(
        update(ReportCounter)
        .where(ReportCounter.year == year)
        .values(last=ReportCounter.last + 1)
        .returning(ReportCounter.last)
    )
    assert number is not None
    return number


async def get(
    session: AsyncSession, report_id: uuid.UUID, *, for_update: bool = False
) -> Report | None:
    query = select(Report).where(Report.id == report_id)
    if for_update:
        query = query.with_for_update(of=Report)
    return await session.scalar(query)
