"""Holding a CRM status change whose code has no mapping, for an operator to map."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case
from crm_adapter.crm.connector import CrmStatusChange
from crm_adapter.statuses import repository
from crm_adapter.statuses.models import HeldChange
from shared.db import utcnow

logger = logging.getLogger(__name__)


async def hold_change(
    session: AsyncSession, case: Case, change: CrmStatusChange, *, current: bool = True
) -> None:
    """Keep the change as it came; the case keeps its status and records the raw code
    (unless the change is older than the case's, not `current`).

    The case's CRM version stays as it was, so that the change can still be applied once
    its code is mapped (unless a newer change has been applied by then).
    """
    connector = case.connector or ""
    already = await repository.is_held(session, connector, change.update_id)
    now = utcnow()
    if not already:
        session.add(
            HeldChange(
                case_id=case.id,
                connector=connector,
                crm_code=change.status,
                update_id=change.update_id,
                crm_case_id=change.case_id,
                external_ref=change.external_ref,
                note=change.note,
                version=change.version,
                changed_at=change.changed_at,
                held_at=now,
            )
        )
    if current:
        case.crm_status = change.status
    case.updated_at = now
    logger.warning(
        "case.unmapped_status",
        extra={
            "report_id": str(case.report_id),
            "connector": connector,
            "crm_status": change.status,
        },
    )


def change_of(held: HeldChange) -> CrmStatusChange:
    """The held change as the CRM sent it."""
    return CrmStatusChange(
        update_id=held.update_id,
        case_id=held.crm_case_id,
        external_ref=held.external_ref,
        status=held.crm_code,
        note=held.note,
        version=held.version,
        changed_at=held.changed_at,
    )
