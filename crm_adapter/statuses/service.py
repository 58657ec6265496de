"""Operators' work on the status mapping table, and releasing held changes once mapped."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.crm.mapping import default_connectors
from crm_adapter.crm.models import StatusMapping
from crm_adapter.operators import audit
from crm_adapter.statuses import repository
from crm_adapter.statuses.apply import apply_crm_change
from crm_adapter.statuses.exceptions import StatusMappingNotFound, UnknownConnector
from crm_adapter.statuses.held import change_of
from crm_adapter.statuses.models import HeldChange
from shared.contracts import ReportStatus
from shared.db import utcnow
from shared.operators import Operator

logger = logging.getLogger(__name__)


async def list_mappings(
    session: AsyncSession, connector: str | None = None
) -> Sequence[StatusMapping]:
    return await repository.mappings(session, connector)


async def _check_connector(session: AsyncSession, connector: str) -> None:
    if connector in default_connectors():
        return
    if not await repository.connector_in_use(session, connector):
        raise UnknownConnector(connector=connector)


async def set_mapping(
    session: AsyncSession,
    operator: Operator,
    *,
    connector: str,
    code: str,
    status: ReportStatus,
) -> tuple[StatusMapping, int]:
    """Map the code, apply the changes held for it, and record both; (mapping, applied)."""
    await _check_connector(session, connector)
    mapping = await repository.mapping_to_set(session, connector, code)
    previous = mapping.status
    mapping.status = status
    mapping.changed_by = operator.name
    mapping.changed_at = utcnow()
    await session.flush()
    released = await _reapply(session, connector=connector, code=code)
    row = audit.record(
        session,
        operator,
        action="status_mapping.set",
        target_type="status_mapping",
        target_id=f"{connector}/{code}",
        details={
            "status": status.value,
            "previous": previous,
            "reapplied": [held.update_id for held in released],
        },
    )
    await audit.commit(session, row)
    return mapping, len(released)


async def delete_mapping(
    session: AsyncSession, operator: Operator, *, connector: str, code: str
) -> None:
    """Unmap the code: its later changes are held again. The row stays without a status,
    so that the connector's default file does not bring the mapping back."""
    mapping = await repository.mapping(session, connector, code)
    if mapping is None or mapping.status is None:
        raise StatusMappingNotFound(connector=connector, code=code)
    previous = mapping.status
    mapping.status = None
    mapping.changed_by = operator.name
    mapping.changed_at = utcnow()
    row = audit.record(
        session,
        operator,
        action="status_mapping.delete",
        target_type="status_mapping",
        target_id=f"{connector}/{code}",
        details={"previous": previous},
    )
    await audit.commit(session, row)


@dataclass(frozen=True)
class UnmappedCode:
    connector: str
    crm_code: str
    held: int
    first_held_at: dt.datetime
    last_held_at: dt.datetime


async def unmapped(
    session: AsyncSession, *, connector: str | None, code: str | None, limit: int
) -> tuple[list[UnmappedCode], list[tuple[HeldChange, uuid.UUID]]]:
    """The unmapped codes with their held changes' count, the longest waiting first; and the
    held changes with their report's id, oldest first.

    One statement reads both, so that the counts and the list agree even while changes
    are being held or released: each row carries its code's count and times, and only the
    first `limit` rows and each code's first row come back.
    """
    rows = await repository.held_ranked(
        session, connector=connector, code=code, limit=limit
    )
    codes = sorted(
        (
            UnmappedCode(
                connector=row.HeldChange.connector,
                crm_code=row.HeldChange.crm_code,
                held=row.held,
                first_held_at=row.first,
                last_held_at=row.last,
            )
            for row in rows
            if row.position_in_code == 1
        ),
        key=lambda c: (c.first_held_at, c.connector),
    )
    items = [(row.HeldChange, row.report_id) for row in rows if row.position <= limit]
    return codes, items


async def reapply(
    session: AsyncSession,
    operator: Operator,
    *,
    connector: str | None,
    code: str | None,
) -> tuple[int, int]:
    """Apply the selected held changes whose code is mapped now; (applied, still held)."""
    released = await _reapply(session, connector=connector, code=code)
    still = await repository.held_count(session, connector=connector, code=code)
    row = audit.record(
        session,
        operator,
        action="held_changes.reapply",
        target_type="held_changes",
        target_id=f"{connector or '*'}/{code or '*'}",
        details={"reapplied": [held.update_id for held in released]},
    )
    await audit.commit(session, row)
    return len(released), still


async def _reapply(
    session: AsyncSession, *, connector: str | None, code: str | None
) -> list[HeldChange]:
    """Apply, in the order they came, the held changes of the selection whose code is mapped
    now; each goes through `apply_crm_change`, so one older than what its case has by now
    changes nothing. Returns the changes released."""
    released = list(
        await repository.held_and_mapped(session, connector=connector, code=code)
    )
    now = utcnow()
    for held in released:
        await apply_crm_change(session, change_of(held), held.connector)
        held.reapplied_at = now
    if released:
        logger.info("held_changes.reapplied", extra={"count": len(released)})
    return released
