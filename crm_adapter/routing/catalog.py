"""Intake's categories as the adapter knows them (`catalog.changed.v1`), and what the adapter
tells intake of its routing (`routing.changed.v1`).

Intake owns the categories, the adapter the units and who handles what; each tells the
other the whole of its part after every change, with a version, and each side keeps only
a newer one. The adapter uses intake's categories to show operators which active
categories no rule covers (their reports would be held) and which rules name a category
intake does not have.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.db import OutboxEvent
from crm_adapter.routing.models import CatalogCategory, CatalogState, Rule, VersionUnit
from crm_adapter.routing.schemas import CatalogCoverage
from shared.contracts import (
    ROUTING_AGGREGATE,
    CatalogChangedV1,
    Envelope,
    Names,
    RoutingChangedV1,
    RoutingUnit,
)
from shared.db import upsert_insert, utcnow
from shared.i18n import LANGUAGES
from shared.outbox import add_event

logger = logging.getLogger(__name__)

STATE_ID = 1
"""The one row of `catalog_state`."""


async def apply_catalog(session: AsyncSession, event: CatalogChangedV1) -> str | None:
    """Keep a newer version of intake's categories; why it could not, or None."""
    await session.execute(
        upsert_insert(session, CatalogState)
        .values(id=STATE_ID, version=0)
        .on_conflict_do_nothing()
    )
    state = await session.scalar(
        select(CatalogState).where(CatalogState.id == STATE_ID).with_for_update()
    )
    assert state is not None  # written just above
    if event.version <= state.version:
        logger.info(
            "catalog.stale", extra={"version": event.version, "held": state.version}
        )
        return None
    state.version = event.version
    await session.execute(delete(CatalogCategory))
    session.add_all(
        CatalogCategory(
            code=category.code,
            group_code=category.group,
            names=category.names.model_dump(),
            active=category.active,
        )
        for category in event.categories
    )
    logger.info(
        "catalog.taken",
        extra={"version": event.version, "categories": len(event.categories)},
    )
    return None


async def coverage(
    session: AsyncSession, rules: Sequence[Rule]
) -> CatalogCoverage | None:
    """How `rules` meet intake's categories; None before intake told them."""
    state = await session.get(CatalogState, STATE_ID)
    if state is None:
        return None
    categories = (await session.scalars(select(CatalogCategory))).all()
    named = {rule.category for rule in rules}
    return CatalogCoverage(
        catalog_version=state.version,
        uncovered=sorted(
            c.code for c in categories if c.active and c.code not in named
        ),
        unknown=sorted(named - {c.code for c in categories}),
    )


def usual_units(rules: Sequence[Rule]) -> dict[str, str]:
    """Each category's usual unit: that of its rule without area, or else its first rule."""
    usual: dict[str, str] = {}
    for rule in sorted(rules, key=lambda r: (r.area is not None, r.position)):
        usual.setdefault(rule.category, rule.unit_code)
    return usual


def tell_intake(
    session: AsyncSession,
    *,
    number: int,
    units: Sequence[VersionUnit],
    rules: Sequence[Rule],
) -> None:
    """Queue `routing.changed.v1` for version `number` in the caller's transaction."""
    now = utcnow()
    event = RoutingChangedV1(
        version=number,
        units=[
            RoutingUnit(
                code=unit.code,
                names=Names.model_validate(
                    unit.names or dict.fromkeys(LANGUAGES, unit.name)
                ),
            )
            for unit in units
        ],
        category_units=usual_units(rules),
        changed_at=now,
    )
    add_event(
        session,
        OutboxEvent,
        Envelope(occurred_at=now, source="adapter", event=event),
        aggregate_id=ROUTING_AGGREGATE,
    )
