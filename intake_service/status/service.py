"""Applying status changes from the adapter: the report, its history, then notifications."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.categories.models import Unit
from intake_service.db import InboxMessage
from intake_service.notifications.models import NotificationKind
from intake_service.notifications.service import add_notification
from intake_service.reports import repository
from intake_service.reports.models import ReportStatusChange
from shared.contracts import Event, ReportStatus, ReportStatusChangedV1
from shared.db import utcnow
from shared.inbox import receive_envelope

logger = logging.getLogger(__name__)

# `submitted` only says the CRM has the case; the resident hears from the unit's own work on.
_SILENT = {ReportStatus.SUBMITTED}


async def receive_event(session: AsyncSession, *, body: bytes) -> bool:
    """Store the event once and apply it in the same transaction; False for a duplicate."""

    async def handle(event: Event) -> str | None:
        if not isinstance(event, ReportStatusChangedV1):
            return f"not handled here: {event.type}"
        return await apply_status_change(session, event)

    return await receive_envelope(session, InboxMessage, body=body, handler=handle)


async def apply_status_change(
    session: AsyncSession, change: ReportStatusChangedV1
) -> str | None:
    """Apply one change unless a newer one was applied already; returns an error, or None."""
    report = await repository.get(session, change.report_id, for_update=True)
    if report is None:
        logger.warning(
            "status.unknown_report", extra={"report_id": str(change.report_id)}
        )
        return "unknown report"
    if change.sequence <= report.status_sequence:
        logger.info(
            "status.stale",
            extra={"report_id": str(report.id), "sequence": change.sequence},
        )
        return None
    previous = ReportStatus(report.status)
    report.status = change.status
    report.status_sequence = change.sequence
    if change.unit and await session.get(Unit, change.unit) is not None:
        report.unit_code = change.unit
    if change.crm_case_id:
        report.crm_case_id = change.crm_case_id
    report.updated_at = utcnow()
    report.history.append(
        ReportStatusChange(
            status=change.status,
            sequence=change.sequence,
            note=change.note,
            changed_at=change.changed_at,
        )
    )
    news = change.status != previous or bool(change.note)
    if news and change.status not in _SILENT:
        for account in await repository.followers(session, report):
            await add_notification(
                session,
                account=account,
                report=report,
                kind=NotificationKind.STATUS_CHANGED,
                sequence=change.sequence,
                status=change.status,
                note=change.note,
            )
    logger.info(
        "status.applied",
        extra={
            "report_id": str(report.id),
            "status": change.status,
            "sequence": change.sequence,
        },
    )
    return None
