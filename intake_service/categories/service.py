"""Reading categories, and seeding the defaults shipped in `defaults.json`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.categories import repository
from intake_service.categories.models import (
    CatalogState,
    Category,
    CategoryGroup,
    Unit,
)
from shared.db import database_of

DEFAULTS_FILE = Path(__file__).with_name("defaults.json")


def load_defaults() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return data


async def list_active(session: AsyncSession) -> list[Category]:
    return await repository.active(session)


async def get_active(session: AsyncSession, code: str) -> Category | None:
    category = await repository.category(session, code)
    return category if category is not None and category.active else None


STATE_ID = 1
"""The one row of `catalog_state`."""

CACHE_SECONDS = 10.0
"""How long a process works from its copy of the categories and units: a change made in
the database reaches every process (and replica) within this time."""


@dataclass(frozen=True)
class Catalog:
    """Every category (active or retired) and unit, by code: a process's copy.

    The copy is shared by every request: read it, never attach its objects to a session.
    """

    categories: dict[str, Category]
    units: dict[str, Unit]


_copies: dict[URL, tuple[float, Catalog]] = {}


async def catalog(session: AsyncSession, *, reread: bool = False) -> Catalog:
    """This process's copy of the categories and units (read again after
    `CACHE_SECONDS`, or at once with `reread`), so that filing a report and listing
    reports read no category or unit row."""
    key = database_of(session)
    now = time.monotonic()
    copy = _copies.get(key)
    if reread or copy is None or now - copy[0] > CACHE_SECONDS:
        categories = await repository.every_category(session)
        units = await repository.every_unit(session)
        for item in (*categories, *units):
            session.expunge(item)
        copy = (
            now,
            Catalog(
                categories={category.code: category for category in categories},
                units={unit.code: unit for unit in units},
            ),
        )
        _copies[key] = copy
    return copy[1]


async def get_active_copy(session: AsyncSession, code: str) -> Category | None:
    """The active category `code` from this process's copy (`catalog`)."""
    found = (await catalog(session)).categories.get(code)
    return found if found is not None and found.active else None


def forget_copies() -> None:
    """Read the categories and units again when next needed (after they were changed)."""
    _copies.clear()


def forget_copies_after_commit(session: AsyncSession) -> None:
    """`forget_copies` once the session's change is committed (not before: a request in
    between would copy the old rows again)."""
    event.listen(
        session.sync_session,
        "after_commit",
        lambda _session: forget_copies(),
        once=True,
    )


async def seed_defaults(session: AsyncSession) -> int:
    """Add the default units, groups and categories that are missing; returns how many.

    Rows that exist are left alone, so an operator's changes survive every deployment.
    """
    data = load_defaults()
    added = 0
    for position, group in enumerate(data["groups"]):
        if await repository.group(session, group["code"]) is None:
            session.add(
                CategoryGroup(
                    code=group["code"], names=group["names"], position=position
                )
            )
            added += 1
    for unit in data["units"]:
        if await repository.unit(session, unit["code"]) is None:
            session.add(Unit(code=unit["code"], names=unit["names"]))
            added += 1
    await session.flush()
    for position, item in enumerate(data["categories"]):
        if await repository.category(session, item["code"]) is None:
            session.add(
                Category(
                    code=item["code"],
                    group_code=item["group"],
                    names=item["names"],
                    unit_code=item["unit"],
                    expected_resolution_hours=item.get("expected_resolution_hours"),
                    expected_resolution_working_days=item.get(
                        "expected_resolution_working_days"
                    ),
                    duplicate_radius_m=item.get("duplicate_radius_m", 250),
                    attributes=item.get("attributes", []),
                    position=position,
                )
            )
            added += 1
    if await session.get(CatalogState, STATE_ID) is None:
        # The defaults are version 1 on both sides: the adapter's routing starts from the
        # same units and categories.
        session.add(CatalogState(id=STATE_ID, version=1, routing_version=1))
        added += 1
    await session.commit()
    return added
