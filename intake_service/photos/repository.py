"""Queries on photos; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.photos.models import Photo


async def photo(session: AsyncSession, photo_id: uuid.UUID) -> Photo | None:
    """The photo, or None when there is no such photo."""
    return await session.get(Photo, photo_id)


async def known_ids(
    session: AsyncSession, photo_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of the ids that a photo row has."""
    query = select(Photo.id).where(Photo.id.in_(photo_ids))
    return set((await session.scalars(query)).all())
