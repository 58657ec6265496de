"""Queries on feedback; never commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.feedback.models import Feedback


async def for_closing(
    session: AsyncSession, report_id: uuid.UUID, closing_sequence: int
) -> Feedback | None:
    return await session.scalar(
        select(Feedback).where(
            Feedback.report_id == report_id,
            Feedback.closing_sequence == closing_sequence,
        )
    )


async def latest(session: AsyncSession, report_id: uuid.UUID) -> Feedback | None:
    """The answer about the report's latest closing that has one."""
    return await session.scalar(
        select(Feedback)
        .where(Feedback.report_id == report_id)
        .order_by(Feedback.closing_sequence.desc())
        .limit(1)
    )


Figures = tuple[str | None, int, float, float]
"""A unit or category code, how many answers, their mean rating, the share "not fixed"."""


async def figures(
    session: AsyncSession,
    *,
    by: Literal["unit", "category"],
    since: dt.datetime,
    until: dt.datetime,
) -> list[Figures]:
    """Answers first given in [since, until), grouped by unit or by category."""
    key = Feedback.unit_code if by == "unit" else Feedback.category_code
    not_fixed = case((Feedback.fixed, 0.0), else_=1.0)
    query = (
        select(
            key,
            func.count(),
            func.avg(cast(Feedback.rating, Float)),
            func.avg(not_fixed),
        )
        .where(Feedback.created_at >= since, Feedback.created_at < until)
        .group_by(key)
    )
    return [
        (code, int(count), float(rating), float(share))
        for code, count, rating, share in (await session.execute(query)).all()
    ]
