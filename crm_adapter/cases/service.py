"""A case's status and what intake hears of it, and queuing what reporters ask of a case
later (reopens, comments, erasure) for the CRM.

A case is opened by `crm_adapter.intake_events` (routed by `crm_adapter.routing`), pushed to
the CRM by `crm_adapter.deliveries`, and changed by the CRM through `crm_adapter.statuses`."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases import repository
from crm_adapter.cases.models import (
    ActionKind,
    ActionState,
    Case,
    CaseAction,
    CaseState,
)
from crm_adapter.db import OutboxEvent
from shared.contracts import (
    Envelope,
    ReportCommentAddedV1,
    ReporterErasedV1,
    ReportReopenRequestedV1,
    ReportStatus,
    ReportStatusChangedV1,
    without_contact,
)
from shared.db import utcnow
from shared.outbox import add_event
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)

ERASURE_IDS = uuid.UUID("6f1c3a52-9a0e-4d36-b1f7-2c8e5d4a9b10")
"""Namespace of the erasure actions' ids (UUID 5 of the report id)."""

PUSHER = "cases"
"""Name of the case pusher loop's wake-up."""
FORWARDER = "case_actions"
"""Name of the wake-up of the loop passing reopens and comments to the CRM."""


def set_status(case: Case, status: ReportStatus, *, at: dt.datetime) -> None:
    """Change the case's status, and its `closed_at` with it."""
    if status.is_closed:
        if case.closed_at is None or not case.status.is_closed:
            case.closed_at = at
    else:
        case.closed_at = None
    case.status = status


def emit_status(
    session: AsyncSession,
    case: Case,
    *,
    note: str | None,
    changed_at: dt.datetime,
    reopen_id: uuid.UUID | None = None,
    superseded: ReportStatus | None = None,
) -> None:
    """Tell intake the case's current status, as the next version of it; or, with
    `superseded`, a status the CRM gave the case before its current one, for the history."""
    case.status_version += 1
    now = utcnow()
    event = ReportStatusChangedV1(
        report_id=case.report_id,
        status=superseded or case.status,
        superseded=superseded is not None,
        sequence=case.status_version,
        unit=case.unit_code,
        note=note,
        crm_case_id=case.crm_case_id,
        crm_status=case.crm_status if superseded is None else None,
        changed_at=changed_at,
        reopen_id=reopen_id,
    )
    add_event(
        session,
        OutboxEvent,
        Envelope(occurred_at=now, source="adapter", event=event),
        aggregate_id=case.report_id,
    )


def _queue(
    session: AsyncSession,
    case: Case,
    *,
    action_id: uuid.UUID,
    kind: ActionKind,
    comment: str | None,
    rating: int | None,
    requested_at: dt.datetime,
) -> None:
    now = utcnow()
    session.add(
        CaseAction(
            id=action_id,
            case_id=case.id,
            kind=kind,
            comment=comment,
            rating=rating,
            requested_at=requested_at,
            state=ActionState.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    wake_after_commit(session, FORWARDER)


async def request_reopen(
    session: AsyncSession, event: ReportReopenRequestedV1
) -> str | None:
    """Record the reporter's reopen on the case, queue it for the CRM, and answer intake.

    The answer is a status change `reopened` carrying the event's `reopen_id`, sent at once
    (not when the CRM has it): intake sets aside every change until it gets it, and the
    changes this adapter sends from now on know of the reopen. Returns why the reopen could
    not be taken, or None.
    """
    case = await repository.case_of_report(session, event.report_id)
    if case is None:
        return f"no case for report {event.report_id}"
    if await repository.has_action(session, event.reopen_id):
        return None  # the same reopen, in an envelope of its own: taken already
    _queue(
        session,
        case,
        action_id=event.reopen_id,
        kind=ActionKind.REOPEN,
        comment=event.comment,
        rating=event.rating,
        requested_at=event.requested_at,
    )
    set_status(case, ReportStatus.REOPENED, at=event.requested_at)
    case.updated_at = utcnow()
    emit_status(
        session,
        case,
        note=None,
        changed_at=event.requested_at,
        reopen_id=event.reopen_id,
    )
    logger.info("case.reopen_requested", extra={"report_id": str(case.report_id)})
    return None


async def add_comment(session: AsyncSession, event: ReportCommentAddedV1) -> str | None:
    """Queue the reporter's comment for the CRM case; returns why it could not, or None."""
    case = await repository.case_of_report(session, event.report_id)
    if case is None:
        return f"no case for report {event.report_id}"
    if await repository.has_action(session, event.comment_id):
        return None
    _queue(
        session,
        case,
        action_id=event.comment_id,
        kind=ActionKind.COMMENT,
        comment=event.comment,
        rating=event.rating,
        requested_at=event.added_at,
    )
    logger.info("case.comment_added", extra={"report_id": str(case.report_id)})
    return None


async def forget_reporter(session: AsyncSession, event: ReporterErasedV1) -> None:
    """Drop the reporter's contact data from the case, and ask the CRM to do the same.

    The request goes through the case's actions like a reopen, after the earlier ones and
    only once the case exists there. It is queued whenever the contact may have left:
    for a case created in the CRM, and for one an attempt was made at (an attempt under
    way, or one whose answer was lost, may have filed it with the contact). A case never
    tried yet is created without the contact.
    """
    case = await repository.case_of_report(session, event.report_id)
    if case is None or case.reporter_contact is None:
        return
    case.reporter_contact = None
    case.updated_at = utcnow()
    # The copy of the hand-over kept in the inbox forgets the reporter too.
    for message in await repository.handovers_of(session, event.report_id):
        message.payload = without_contact(message.payload)
    if case.state == CaseState.CREATED or case.attempts > 0:
        _queue(
            session,
            case,
            # One erasure per report, however often the event is delivered.
            action_id=uuid.uuid5(ERASURE_IDS, str(event.report_id)),
            kind=ActionKind.ERASE_CONTACT,
            comment=None,
            rating=None,
            requested_at=event.erased_at,
        )
    logger.info("case.reporter_erased", extra={"report_id": str(event.report_id)})
