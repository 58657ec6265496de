"""Applying status changes from the adapter: the report, its history, then notifications.

Order. The adapter numbers each report's changes (`sequence`, from 1) and intake applies them
in that order, ignoring any at or below `Report.status_sequence`. Intake's own changes stay
out of that numbering: in the history they count down from 0 (`received` is 0, each reopen by
the reporter one less), so they never collide with the adapter's under the unique
(report_id, sequence), and they never move `status_sequence`. A change that neither changes
the status nor brings a note is recorded as seen and adds nothing to the history. A change
the CRM made before the case's newest one but sent after it (`superseded`) goes into the
history at the CRM's time, with its note, and changes neither the status nor notifies anyone.

Asking. A change that closes an open report (to `resolved` or `rejected`) asks its named
reporter, not its supporters, whether it was really fixed, in the same transaction and keyed
by the change's sequence; a note on a closed report, or a move from one closed status to the
other, is not a new closing and asks nothing.

Reopening. When the reporter says a resolved report is not fixed, intake shows it `reopened`
at once, writes `report.reopen_requested.v1` to its outbox and keeps the reopen's id in
`Report.pending_reopen_id`. Changes the adapter sent before it took that event may still be
on their way, with sequences above the one the resident saw: applied, they would undo the
reopen. So until the adapter's answer arrives (a change carrying the same `reopen_id`, the
first it sends after taking the reopen, with a sequence above all before it) every change is
set aside: its sequence is recorded as seen, its status, note and notifications are not. The
answer ends the wait, and from then on changes apply by sequence as always, so the reopen
neither is undone by an older change nor holds up the CRM's later ones. (The wait ends only
with the answer: a reopen that never reaches the adapter, dead in intake's outbox, holds the
report at `reopened`; the dead event is only logged (`outbox.dead`), and no tool yet sends
it again.)
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.categories.sync import apply_routing, known_unit
from intake_service.db import InboxMessage
from intake_service.notifications.models import NotificationKind
from intake_service.notifications.service import add_notification
from intake_service.reports import repository
from intake_service.reports.models import Report, ReportStatusChange
from intake_service.status.delays import apply_delay
from shared.contracts import (
    Event,
    ReportDeliveryDelayedV1,
    ReportStatus,
    ReportStatusChangedV1,
    RoutingChangedV1,
)
from shared.db import utcnow
from shared.inbox import InboxMixin, receive_envelope
from shared.webhooks import parse_envelope

logger = logging.getLogger(__name__)

# `submitted` only says the CRM has the case; the resident hears from the unit's own work on.
_SILENT = {ReportStatus.SUBMITTED}


async def receive_event(session: AsyncSession, *, body: bytes) -> bool:
    """Store the event once and apply it in the same transaction; False for a duplicate."""
    return await receive_envelope(
        session,
        InboxMessage,
        body=body,
        handler=lambda event: handle_event(session, event),
    )


async def replay(session: AsyncSession, message: InboxMixin) -> str | None:
    """Act on a stored event again (an operator's replay); why it could not, or None."""
    return await handle_event(session, parse_envelope(message.payload.encode()).event)


async def handle_event(session: AsyncSession, event: Event) -> str | None:
    if isinstance(event, ReportStatusChangedV1):
        return await apply_status_change(session, event)
    if isinstance(event, ReportDeliveryDelayedV1):
        return await apply_delay(session, event)
    if isinstance(event, RoutingChangedV1):
        return await apply_routing(session, event)
    return f"not handled here: {event.type}"


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
    if change.unit:
        await known_unit(session, change.unit)
        report.unit_code = change.unit
    if change.crm_case_id:
        report.crm_case_id = change.crm_case_id
    report.status_sequence = change.sequence
    if change.superseded:
        _record_superseded(report, change)
        return None
    if report.pending_reopen_id is not None:
        if change.reopen_id != report.pending_reopen_id:
            logger.info(
                "status.set_aside_for_reopen",
                extra={"report_id": str(report.id), "sequence": change.sequence},
            )
            return None
        report.pending_reopen_id = None
    news = _take_status(report, change)
    if news:
        report.updated_at = utcnow()
        report.history.append(
            ReportStatusChange(
                status=change.status,
                sequence=change.sequence,
                note=change.note,
                changed_at=change.changed_at,
            )
        )
    if news and change.status not in _SILENT:
        await _notify(session, report, change)
    logger.info(
        "status.applied",
        extra={
            "report_id": str(report.id),
            "status": change.status,
            "sequence": change.sequence,
        },
    )
    return None


def _record_superseded(report: Report, change: ReportStatusChangedV1) -> None:
    """History only: the report's status is newer, and nobody hears of it now."""
    report.history.append(
        ReportStatusChange(
            status=change.status,
            sequence=change.sequence,
            note=change.note,
            changed_at=change.changed_at,
            superseded=True,
        )
    )
    logger.info(
        "status.superseded_recorded",
        extra={"report_id": str(report.id), "sequence": change.sequence},
    )


def _take_status(report: Report, change: ReportStatusChangedV1) -> bool:
    """The report takes the change's status, closing or opening with it; whether the
    change is news (a new status or a note)."""
    previous = report.status
    news = change.status != previous or bool(change.note)
    report.status = change.status
    if change.status.is_closed:
        if not previous.is_closed:
            report.closed_sequence = change.sequence
            report.feedback_fixed = None
    else:
        report.closed_sequence = None
    return news


async def _notify(
    session: AsyncSession, report: Report, change: ReportStatusChangedV1
) -> None:
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
    reporter = report.reporter
    # Only a verified reporter is told anything (see `repository.followers`).
    if (
        report.closed_sequence == change.sequence
        and reporter is not None
        and reporter.email_verified_at is not None
    ):
        # Closed now (not only a note on a closed report): was it really fixed?
        await add_notification(
            session,
            account=reporter,
            report=report,
            kind=NotificationKind.FEEDBACK_REQUESTED,
            sequence=change.sequence,
            status=change.status,
        )
