"""What operators do with the routing table: read its versions, make a new one, and route the
reports held as unroutable.

Lost updates. A new version must name the version it was made from (`If-Match` with that
version's ETag): without it 428, and 412 when another version has taken effect since. The
version in effect is locked for update while the new one is made, so of two operators
changing the same version one wins and the other gets 412.

Held reports. A new version routes at once every report no earlier version covered (in its
own transaction); `reroute_held` does the same on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case
from crm_adapter.cases.service import PUSHER
from crm_adapter.operators import audit
from crm_adapter.routing import repository
from crm_adapter.routing.catalog import coverage, tell_intake
from crm_adapter.routing.exceptions import (
    RoutingTableInvalid,
    RoutingVersionChanged,
    RoutingVersionNotFound,
    RoutingVersionRequired,
)
from crm_adapter.routing.geo import Bounds
from crm_adapter.routing.models import RoutingVersion
from crm_adapter.routing.schemas import (
    RerouteResult,
    RoutingTableWrite,
    RoutingVersionRead,
    VersionPage,
    VersionSummary,
)
from crm_adapter.routing.service import (
    add_version,
    decide,
    route_case,
    version_in_effect,
)
from crm_adapter.routing.table import check_table
from shared.db import utcnow
from shared.operators import Operator
from shared.pagination import PageKey, decode_cursor, encode_cursor
from shared.preconditions import matches
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)


async def _read(session: AsyncSession, version: RoutingVersion) -> RoutingVersionRead:
    rules = await repository.rules_of(session, version.number)
    read = RoutingVersionRead.full(
        version, await repository.units_of(session, version.number), rules
    )
    read.coverage = await coverage(session, rules)
    return read


async def in_effect(session: AsyncSession) -> RoutingVersionRead:
    version = await repository.in_effect(session)
    if version is None:  # only before `migrate` seeded version 1
        raise RoutingVersionNotFound(version=1)
    return await _read(session, version)


async def get_version(session: AsyncSession, number: int) -> RoutingVersionRead:
    version = await repository.version(session, number)
    if version is None:
        raise RoutingVersionNotFound(version=number)
    return await _read(session, version)


async def list_versions(
    session: AsyncSession, *, before: int | None, limit: int
) -> VersionPage:
    rows = await repository.versions(session, before=before, limit=limit + 1)
    page = rows[:limit]
    return VersionPage(
        items=[VersionSummary.of(version) for version in page],
        next_before=page[-1].number if len(rows) > limit else None,
    )


async def replace_table(
    session: AsyncSession,
    operator: Operator,
    *,
    table: RoutingTableWrite,
    if_match: str | None,
    connectors: Collection[str],
    bounds: Bounds,
) -> RoutingVersionRead:
    """Make `table` the next version, in effect at once; held reports it covers go out."""
    if if_match is None:
        raise RoutingVersionRequired()
    errors = check_table(table, connectors=connectors, bounds=bounds)
    if errors:
        raise RoutingTableInvalid(
            errors=errors,
            connectors=", ".join(sorted(connectors)),
            bounds=", ".join(f"{edge:g}" for edge in bounds),
        )
    current = await version_in_effect(session, for_update=True)
    if not matches(if_match, current.number if current else None):
        raise RoutingVersionChanged(version=current.number if current else 0)
    number = current.number + 1 if current else 1
    if current is not None:
        current.replaced_at = utcnow()
        # Written now, so that reports routed from here on wait for this version.
        await session.flush()
    version = await add_version(
        session,
        number=number,
        created_by=operator.name,
        comment=table.comment,
        table=table,
    )
    tell_intake(
        session,
        number=number,
        units=await repository.units_of(session, number),
        rules=await repository.rules_of(session, number),
    )
    result = await _route_held(session, version)
    row = audit.record(
        session,
        operator,
        action="routing.replace",
        target_type="routing",
        target_id=number,
        details={
            "replaced": current.number if current else None,
            "units": len(table.units),
            "rules": len(table.rules),
            "routed_unroutable": result.routed,
        },
    )
    await audit.commit(session, row)
    logger.info(
        "routing.replaced",
        extra={"version": number, "routed_unroutable": result.routed},
    )
    return await _read(session, version)


async def _route_held(session: AsyncSession, version: RoutingVersion) -> RerouteResult:
    """Route each report held as unroutable that `version` covers (caller commits)."""
    routed = still = 0
    for case in await repository.held(session):
        decision = await decide(
            session, version, category=case.category, lat=case.lat, lon=case.lon
        )
        route_case(case, decision)
        case.updated_at = utcnow()
        if decision.rule is None:
            still += 1
            continue
        case.next_attempt_at = case.updated_at
        routed += 1
        logger.info(
            "case.routed",
            extra={"report_id": str(case.report_id), "unit": case.unit_code},
        )
    if routed:
        wake_after_commit(session, PUSHER)
    return RerouteResult(version=version.number, routed=routed, still_unroutable=still)


async def reroute_held(session: AsyncSession, operator: Operator) -> RerouteResult:
    """Route the held reports by the version in effect now."""
    version = await version_in_effect(session)
    if version is None:
        raise RoutingVersionNotFound(version=1)
    result = await _route_held(session, version)
    row = audit.record(
        session,
        operator,
        action="unroutable.reroute",
        target_type="routing",
        target_id=version.number,
        details={"routed": result.routed, "still_unroutable": result.still_unroutable},
    )
    await audit.commit(session, row)
    return result


async def list_held(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[Case], str | None]:
    """One page of the reports held as unroutable, newest first, and the next cursor."""
    rows = await repository.held_page(
        session, after=decode_cursor(cursor) if cursor else None, limit=limit + 1
    )
    page, more = list(rows[:limit]), len(rows) > limit
    next_cursor = (
        encode_cursor(PageKey(page[-1].created_at, page[-1].id)) if more else None
    )
    return page, next_cursor
