"""Routing a report by the version of the table in effect, and seeding version 1.

Concurrency. A report is routed under a shared lock on the version in effect, and a new
version takes that version's row for update (and marks it replaced) before it looks for the
reports held as unroutable. So on PostgreSQL a report routed while a new version is being
made is either seen by it (and routed again) or routed by it, never missed in between; on
SQLite every transaction holds the write lock anyway.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case, CaseState
from crm_adapter.routing import repository
from crm_adapter.routing.models import RoutingVersion, Rule, Unit, VersionUnit
from crm_adapter.routing.schemas import RoutingTableWrite
from crm_adapter.routing.table import choose_rule
from shared.db import utcnow

logger = logging.getLogger(__name__)

DEFAULTS_FILE = Path(__file__).with_name("defaults.json")


@dataclass(frozen=True)
class Decision:
    """Where a report goes: `rule` and `unit` are None when no rule covers it."""

    version: int | None
    rule: Rule | None
    unit: VersionUnit | None

    @property
    def connector(self) -> str | None:
        if self.rule is None or self.unit is None:
            return None
        return self.rule.connector or self.unit.connector


async def version_in_effect(
    session: AsyncSession, *, for_update: bool = False
) -> RoutingVersion | None:
    """The version in effect, locked (shared, or for update) until the transaction ends."""
    # Waiting for a version being replaced ends with no row (it is replaced now): the next
    # statement sees the new one.
    for _ in range(3):
        version = await repository.in_effect(session, lock=True, for_update=for_update)
        if version is not None:
            return version
    return None


async def decide(
    session: AsyncSession,
    version: RoutingVersion,
    *,
    category: str,
    lat: float,
    lon: float,
) -> Decision:
    rule = choose_rule(
        await repository.rules_of(session, version.number, category=category),
        lat=lat,
        lon=lon,
    )
    if rule is None:
        return Decision(version.number, None, None)
    unit = await repository.unit(session, version.number, rule.unit_code)
    return Decision(version.number, rule, unit)


async def resolve(
    session: AsyncSession, *, category: str, lat: float, lon: float
) -> Decision:
    """Where a report of `category` at (lat, lon) goes, by the version in effect."""
    version = await version_in_effect(session)
    if version is None:
        return Decision(None, None, None)
    return await decide(session, version, category=category, lat=lat, lon=lon)


async def add_version(
    session: AsyncSession,
    *,
    number: int,
    created_by: str,
    comment: str | None,
    table: RoutingTableWrite,
) -> RoutingVersion:
    """Add `table` as version `number` (checked already), and bring the units up to date."""
    version = RoutingVersion(
        number=number,
        created_by=created_by,
        created_at=utcnow(),
        comment=comment,
        replaced_at=None,
    )
    session.add(version)
    names: dict[str, dict[str, str] | None] = {}
    for item in table.units:
        known = await session.get(Unit, item.code)
        names[item.code] = (
            item.names.model_dump()
            if item.names is not None
            else (known.names if known is not None else None)
        )
        if known is None:
            session.add(
                Unit(
                    code=item.code,
                    name=item.name,
                    connector=item.connector,
                    names=names[item.code],
                )
            )
        else:
            known.name, known.connector = item.name, item.connector
            known.names = names[item.code]
    await session.flush()
    session.add_all(
        VersionUnit(
            version=number,
            code=item.code,
            name=item.name,
            connector=item.connector,
            names=names[item.code],
        )
        for item in table.units
    )
    await session.flush()
    session.add_all(
        Rule(
            version=number,
            position=position,
            category=item.category,
            area=item.area,
            priority=item.priority,
            unit_code=item.unit,
            connector=item.connector,
            note=item.note,
        )
        for position, item in enumerate(table.rules)
    )
    await session.flush()
    return version


async def seed_defaults(session: AsyncSession) -> int:
    """Make version 1 from `defaults.json` when there is no version yet; returns rows added."""
    if await repository.any_version(session):
        return 0
    data = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    table = RoutingTableWrite.model_validate(
        {
            "units": data["units"],
            "rules": [
                {"category": category, "unit": unit}
                for category, unit in data["routes"].items()
            ],
        }
    )
    await add_version(
        session,
        number=1,
        created_by="defaults",
        comment="The default routing table.",
        table=table,
    )
    await session.commit()
    logger.info("routing.seeded", extra={"version": 1})
    return 1 + len(table.units) + len(table.rules)


def route_case(case: Case, routing: Decision) -> None:
    """Send the case to the unit the routing decided, or hold it when no rule covers it."""
    case.routing_version = routing.version
    if routing.rule is None or routing.unit is None:
        case.state = CaseState.UNROUTABLE
        case.last_error = f"no route for category {case.category!r}"
        return
    case.routing_rule_id = routing.rule.id
    case.unit_code = routing.unit.code
    case.connector = routing.connector
    case.state = CaseState.PENDING
    case.last_error = None
