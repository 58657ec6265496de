"""The adapter's routing as intake knows it (`routing.changed.v1`): units and who handles what.

The adapter's routing table is the one place units are named and categories given to them.
Each version that takes effect comes here whole; intake takes it when it is newer than the
one it has, so a repeated or late event changes nothing and a lost one is mended by the next.
A status change may name a unit before its routing event arrives (they travel apart): the
unit is then known by its code until its names come.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.categories.models import CatalogState, Category, Unit
from intake_service.categories.service import STATE_ID, forget_copies_after_commit
from shared.contracts import RoutingChangedV1
from shared.db import upsert_insert
from shared.i18n import LANGUAGES

logger = logging.getLogger(__name__)


async def known_unit(session: AsyncSession, code: str) -> None:
    """Make sure a unit with `code` exists, named by its code until its names come."""
    await session.execute(
        upsert_insert(session, Unit)
        .values(code=code, names=dict.fromkeys(LANGUAGES, code))
        .on_conflict_do_nothing()
    )


async def apply_routing(session: AsyncSession, event: RoutingChangedV1) -> str | None:
    """Take the units and the categories' usual units of a newer routing version."""
    state = await session.scalar(
        select(CatalogState).where(CatalogState.id == STATE_ID).with_for_update()
    )
    if state is None:  # only before `migrate` seeded the catalog
        return "the catalog is not seeded"
    if event.version <= state.routing_version:
        logger.info(
            "routing.stale",
            extra={"version": event.version, "applied": state.routing_version},
        )
        return None
    state.routing_version = event.version
    for unit in event.units:
        await known_unit(session, unit.code)
        await session.execute(
            update(Unit)
            .where(Unit.code == unit.code)
            .values(names=unit.names.model_dump())
        )
    categories = (await session.scalars(select(Category))).unique().all()
    for category in categories:
        unit_code = event.category_units.get(category.code)
        if unit_code is not None:
            await known_unit(session, unit_code)
        category.unit_code = unit_code
    forget_copies_after_commit(session)
    logger.info(
        "routing.taken",
        extra={"version": event.version, "units": len(event.units)},
    )
    return None
