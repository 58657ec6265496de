"""Resolving a category to its unit, and seeding the default routing table."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.routing.models import Route, Unit

DEFAULTS_FILE = Path(__file__).with_name("defaults.json")


async def resolve_unit(session: AsyncSession, category: str) -> Unit | None:
    """The unit responsible for `category`, or None when no active route covers it."""
    query = (
        select(Unit)
        .join(Route, Route.unit_code == Unit.code)
        .where(Route.category == category, Route.active.is_(True))
    )
    return await session.scalar(query)


async def seed_defaults(session: AsyncSession) -> int:
    """Add the default units and routes that are missing; operators' changes stay."""
    data = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    added = 0
    for unit in data["units"]:
        if await session.get(Unit, unit["code"]) is None:
            session.add(
                Unit(code=unit["code"], name=unit["name"], connector=unit["connector"])
            )
            added += 1
    await session.flush()
    for category, unit_code in data["routes"].items():
        if await session.get(Route, category) is None:
            session.add(Route(category=category, unit_code=unit_code))
            added += 1
    await session.commit()
    return added
