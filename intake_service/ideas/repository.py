"""Queries on ideas; never commits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.ideas.models import Idea
from shared.pagination import PageKey


async def newest(
    session: AsyncSession,
    *,
    topic: str | None,
    category: str | None,
    since: dt.datetime | None,
    after: PageKey | None = None,
    limit: int | None = None,
) -> list[Idea]:
    """Ideas newest first, filtered; a keyset page when `after`/`limit` are given."""
    query = select(Idea)
    if topic is not None:
        query = query.where(Idea.topic == topic)
    if category is not None:
        query = query.where(Idea.category_code == category)
    if since is not None:
        query = query.where(Idea.created_at >= since)
    if after is not None:
        query = query.where(
            or_(
                Idea.created_at < after.created_at,
                and_(Idea.created_at == after.created_at, Idea.id < after.id),
            )
        )
    query = query.order_by(Idea.created_at.desc(), Idea.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())
