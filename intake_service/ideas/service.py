"""Residents send ideas; operators read them, never who sent them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.area.service import ServiceArea
from intake_service.categories import service as categories
from intake_service.ideas import repository
from intake_service.ideas.models import Idea
from intake_service.ideas.schemas import IdeaCreate, IdeaTopic
from intake_service.reports.exceptions import UnknownCategory
from shared.csv_export import Cell
from shared.db import utcnow
from shared.pagination import PageKey, decode_cursor, encode_cursor


async def submit_idea(
    session: AsyncSession,
    *,
    data: IdeaCreate,
    sender: Account | None,
    area: ServiceArea,
) -> Idea:
    if data.location is not None:
        area.check(data.location.lat, data.location.lon)
    category = None
    if data.category is not None:
        category = await categories.get_active(session, data.category)
        if category is None:
            raise UnknownCategory(category=data.category)
    idea = Idea(
        text=data.text,
        topic=data.topic.value if data.topic else None,
        category=category,
        category_code=category.code if category else None,
        lat=data.location.lat if data.location else None,
        lon=data.location.lon if data.location else None,
        account_id=sender.id if sender else None,
        created_at=utcnow(),
    )
    session.add(idea)
    await session.commit()
    return idea


async def list_ideas(
    session: AsyncSession,
    *,
    topic: IdeaTopic | None,
    category: str | None,
    since: dt.datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Idea], str | None]:
    """One page of ideas, newest first, and the next page's cursor (None at the end)."""
    ideas = await repository.newest(
        session,
        topic=topic.value if topic else None,
        category=category,
        since=since,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    page, more = ideas[:limit], len(ideas) > limit
    next_cursor = (
        encode_cursor(PageKey(page[-1].created_at, page[-1].id)) if more else None
    )
    return page, next_cursor


async def export(
    session: AsyncSession,
    *,
    topic: IdeaTopic | None,
    category: str | None,
    since: dt.datetime | None,
) -> tuple[list[str], list[list[Cell]]]:
    """A CSV header and one row per idea, newest first; no sender."""
    ideas = await repository.newest(
        session, topic=topic.value if topic else None, category=category, since=since
    )
    header = ["id", "created_at", "topic", "category", "lat", "lon", "text"]
    rows: list[list[Cell]] = [
        [
            str(idea.id),
            idea.created_at.isoformat(),
            idea.topic,
            idea.category_code,
            idea.lat,
            idea.lon,
            idea.text,
        ]
        for idea in ideas
    ]
    return header, rows
