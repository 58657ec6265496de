"""Queries on categories, their groups and units; never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.categories.models import Category, CategoryGroup, Unit


async def active(session: AsyncSession) -> list[Category]:
    """The active categories in the order residents see them."""
    query = (
        select(Category)
        .where(Category.active.is_(True))
        .order_by(Category.position, Category.code)
    )
    return list((await session.scalars(query)).all())


async def category(session: AsyncSession, code: str) -> Category | None:
    """The category, active or retired."""
    return await session.get(Category, code)


async def every_category(session: AsyncSession) -> list[Category]:
    """Every category, active or retired."""
    return list((await session.scalars(select(Category))).unique().all())


async def every_unit(session: AsyncSession) -> list[Unit]:
    """Every unit that categories are handled by."""
    return list((await session.scalars(select(Unit))).all())


async def every_group(session: AsyncSession) -> list[CategoryGroup]:
    """Every group, in the order residents see them."""
    query = select(CategoryGroup).order_by(CategoryGroup.position, CategoryGroup.code)
    return list((await session.scalars(query)).all())


async def group(session: AsyncSession, code: str) -> CategoryGroup | None:
    """The group of categories with this code."""
    return await session.get(CategoryGroup, code)


async def unit(session: AsyncSession, code: str) -> Unit | None:
    """The unit with this code."""
    return await session.get(Unit, code)
