"""Each connector's CRM status codes mapped onto our canonical statuses.

The mapping is a table operators edit (`status_mappings`); each connector's file in
`mappings/` holds its defaults, added to the table where missing, never over an operator's
change.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.crm.models import StatusMapping
from shared.contracts import ReportStatus
from shared.db import utcnow

MAPPINGS_DIR = Path(__file__).with_name("mappings")


@cache
def status_map(connector: str) -> dict[str, ReportStatus]:
    """The connector's default mapping, as its file in `mappings/` has it."""
    raw: dict[str, str] = json.loads(
        (MAPPINGS_DIR / f"{connector}.json").read_text("utf-8")
    )
    return {code: ReportStatus(status) for code, status in raw.items()}


def default_connectors() -> list[str]:
    """The connectors that have a default mapping file."""
    return sorted(path.stem for path in MAPPINGS_DIR.glob("*.json"))


async def canonical_status(
    session: AsyncSession, connector: str, crm_status: str
) -> ReportStatus | None:
    """Our status for the CRM's code, or None for a code nobody mapped (never guessed)."""
    status = await session.scalar(
        select(StatusMapping.status).where(
            StatusMapping.connector == connector, StatusMapping.crm_code == crm_status
        )
    )
    return status


async def seed_status_mappings(session: AsyncSession) -> int:
    """Add every default mapping that is missing; operators' changes (and removals) stay."""
    added = 0
    now = utcnow()
    for connector in default_connectors():
        for code, status in status_map(connector).items():
            if await session.get(StatusMapping, (connector, code)) is None:
                session.add(
                    StatusMapping(
                        connector=connector,
                        crm_code=code,
                        status=status.value,
                        changed_by=None,
                        changed_at=now,
                    )
                )
                added += 1
    await session.commit()
    return added
