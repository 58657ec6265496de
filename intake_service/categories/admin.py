"""What operators do with the catalog: make and change categories and their groups.

Each change names the revision it was made on (`If-Match`, as for the adapter's routing
table): without it 428, and 412 when the thing changed since it was read; a new one is made
without `If-Match`. The row is locked while it changes, so of two operators one wins.

Every change of a category increases the catalog's version and tells the adapter the whole
catalog (`catalog.changed.v1`) in the same transaction. Units are the adapter's: its routing
table names them and decides who handles what, and comes back as `routing.changed.v1`.
Processes read the categories again within `service.CACHE_SECONDS`, this one at once.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.categories import repository
from intake_service.categories.admin_schemas import (
    CatalogRead,
    CategoryAdminRead,
    CategoryWrite,
    GroupRead,
    GroupWrite,
    UnitRead,
)
from intake_service.categories.exceptions import (
    CatalogFull,
    GroupUnknown,
    RevisionChanged,
    RevisionRequired,
)
from intake_service.categories.models import CatalogState, Category, CategoryGroup
from intake_service.categories.service import STATE_ID, forget_copies_after_commit
from intake_service.db import OutboxEvent
from intake_service.operators import audit
from shared.contracts import (
    CATALOG_AGGREGATE,
    CatalogCategory,
    CatalogChangedV1,
    Envelope,
    Names,
)
from shared.contracts.catalog import MAX_CATEGORIES
from shared.db import utcnow
from shared.operators import Operator
from shared.outbox import add_event
from shared.preconditions import matches

logger = logging.getLogger(__name__)


async def read_catalog(session: AsyncSession) -> CatalogRead:
    state = await session.get(CatalogState, STATE_ID)
    groups = await repository.every_group(session)
    categories = await repository.every_category(session)
    units = await repository.every_unit(session)
    return CatalogRead(
        version=state.version if state else 0,
        routing_version=state.routing_version if state else 0,
        groups=[GroupRead.of(group) for group in groups],
        categories=[
            CategoryAdminRead.of(category)
            for category in sorted(categories, key=lambda c: (c.position, c.code))
        ],
        units=[UnitRead.of(unit) for unit in sorted(units, key=lambda u: u.code)],
    )


def _check_precondition(if_match: str | None, revision: int | None) -> None:
    """Raise unless `if_match` allows the write on `revision` (None: nothing there yet)."""
    if revision is None:
        if if_match is not None:  # RFC 9110: If-Match on nothing fails
            raise RevisionChanged()
        return
    if if_match is None:
        raise RevisionRequired()
    if not matches(if_match, revision):
        raise RevisionChanged()


async def put_category(
    session: AsyncSession,
    operator: Operator,
    *,
    code: str,
    body: CategoryWrite,
    if_match: str | None,
) -> tuple[Category, bool]:
    """Make or change category `code`; the category and whether it was made now."""
    category = await session.scalar(
        select(Category).where(Category.code == code).with_for_update(of=Category)
    )
    _check_precondition(if_match, category.revision if category else None)
    if await repository.group(session, body.group) is None:
        raise GroupUnknown(group=body.group)
    fields: dict[str, Any] = {
        "group_code": body.group,
        "names": body.names.model_dump(),
        "expected_resolution_hours": body.expected_resolution.hours,
        "expected_resolution_working_days": body.expected_resolution.working_days,
        "duplicate_radius_m": body.duplicate_radius_m,
        "attributes": [attribute.stored() for attribute in body.attributes],
        "active": body.active,
        "position": body.position,
    }
    created = category is None
    if category is None and len(await repository.every_category(session)) >= (
        MAX_CATEGORIES
    ):
        raise CatalogFull(most=MAX_CATEGORIES)
    if category is None:
        # No unit until the adapter's routing names one (`routing.changed.v1`).
        category = Category(code=code, unit_code=None, revision=1, **fields)
        session.add(category)
        changed = sorted(fields)
    else:
        changed = sorted(k for k, v in fields.items() if getattr(category, k) != v)
        for name, value in fields.items():
            setattr(category, name, value)
        category.revision += 1
    await _flush_or_conflict(session)
    version = await _tell_the_adapter(session)
    row = audit.record(
        session,
        operator,
        action="category.create" if created else "category.update",
        target_type="category",
        target_id=code,
        details={"changed": changed, "catalog_version": version},
    )
    forget_copies_after_commit(session)
    await audit.commit(session, row)
    logger.info("category.changed", extra={"category": code, "version": version})
    await session.refresh(category)
    return category, created


async def put_group(
    session: AsyncSession,
    operator: Operator,
    *,
    code: str,
    body: GroupWrite,
    if_match: str | None,
) -> tuple[CategoryGroup, bool]:
    """Make or change group `code`; the group and whether it was made now."""
    group = await session.scalar(
        select(CategoryGroup).where(CategoryGroup.code == code).with_for_update()
    )
    _check_precondition(if_match, group.revision if group else None)
    created = group is None
    if group is None:
        group = CategoryGroup(
            code=code, names=body.names.model_dump(), position=body.position
        )
        session.add(group)
    else:
        group.names, group.position = body.names.model_dump(), body.position
        group.revision += 1
    await _flush_or_conflict(session)
    row = audit.record(
        session,
        operator,
        action="category_group.create" if created else "category_group.update",
        target_type="category_group",
        target_id=code,
    )
    forget_copies_after_commit(session)
    await audit.commit(session, row)
    await session.refresh(group)
    return group, created


async def _flush_or_conflict(session: AsyncSession) -> None:
    """Write the change; another operator making the same code at once is a 412."""
    try:
        await session.flush()
    except IntegrityError as error:
        await session.rollback()
        raise RevisionChanged() from error


async def _tell_the_adapter(session: AsyncSession) -> int:
    """The catalog's next version, with the whole catalog in intake's outbox for the adapter."""
    version: int | None = await session.scalar(
        update(CatalogState)
        .where(CatalogState.id == STATE_ID)
        .values(version=CatalogState.version + 1)
        .returning(CatalogState.version)
    )
    if version is None:  # only before `migrate` seeded the catalog
        raise RuntimeError("the catalog is not seeded: run migrate")
    categories = await repository.every_category(session)
    now = utcnow()
    event = CatalogChangedV1(
        version=version,
        categories=[
            CatalogCategory(
                code=category.code,
                group=category.group_code,
                names=Names.model_validate(category.names),
                active=category.active,
                resolution_target=category.resolution_target,
            )
            for category in sorted(categories, key=lambda c: c.code)
        ],
        changed_at=now,
    )
    add_event(
        session,
        OutboxEvent,
        Envelope(occurred_at=now, source="intake", event=event),
        aggregate_id=CATALOG_AGGREGATE,
    )
    return version
