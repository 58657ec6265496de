"""Opening cases for submitted reports, applying the CRM's status changes to them, and
queuing what reporters ask of them later (reopens, comments) for the CRM."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import (
    ActionKind,
    ActionState,
    Case,
    CaseAction,
    CaseState,
)
from crm_adapter.crm.connector import CrmStatusChange
from crm_adapter.crm.mapping import canonical_status
from crm_adapter.db import InboxMessage, OutboxEvent
from crm_adapter.routing.service import Decision, resolve
from crm_adapter.statuses.held import hold_change
from shared.contracts import (
    Envelope,
    ReportCommentAddedV1,
    ReporterErasedV1,
    ReportReopenRequestedV1,
    ReportStatus,
    ReportStatusChangedV1,
    ReportSubmittedV1,
    without_contact,
)
from shared.db import utcnow
from shared.outbox import add_event
from shared.sla import due_at
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)

ERASURE_IDS = uuid.UUID("6f1c3a52-9a0e-4d36-b1f7-2c8e5d4a9b10")
"""Namespace of the erasure actions' ids (UUID 5 of the report id)."""

PUSHER = "cases"
"""Name of the case pusher loop's wake-up."""
FORWARDER = "case_actions"
"""Name of the wake-up of the loop passing reopens and comments to the CRM."""


async def open_case(session: AsyncSession, event: ReportSubmittedV1) -> Case:
    """Route the report and queue its case for the CRM (in the caller's transaction)."""
    existing = await session.scalar(
        select(Case).where(Case.report_id == event.report_id)
    )
    if existing is not None:
        return existing
    routing = await resolve(
        session,
        category=event.category,
        lat=event.location.lat,
        lon=event.location.lon,
    )
    now = utcnow()
    case = Case(
        id=uuid.uuid4(),
        report_id=event.report_id,
        report_number=event.number,
        category=event.category,
        description=event.description,
        attributes=dict(event.attributes),
        lat=event.location.lat,
        lon=event.location.lon,
        photo_ids=[str(photo_id) for photo_id in event.photo_ids],
        reporter_contact=event.reporter_contact.model_dump()
        if event.reporter_contact
        else None,
        submitted_at=event.submitted_at,
        due_at=due_at(
            event.submitted_at,
            hours=event.resolution_target.hours,
            working_days=event.resolution_target.working_days,
        ),
        closed_at=None,
        status=ReportStatus.RECEIVED,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    route_case(case, routing)
    session.add(case)
    if case.state == CaseState.PENDING:
        wake_after_commit(session, PUSHER)
        logger.info(
            "case.opened",
            extra={"report_id": str(event.report_id), "unit": case.unit_code},
        )
    else:
        logger.warning("case.unroutable", extra={"report_id": str(event.report_id)})
    return case


def set_status(case: Case, status: ReportStatus, *, at: dt.datetime) -> None:
    """Change the case's status, and its `closed_at` with it."""
    if status.is_closed:
        if case.closed_at is None or not ReportStatus(case.status).is_closed:
            case.closed_at = at
    else:
        case.closed_at = None
    case.status = status


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
        status=superseded or ReportStatus(case.status),
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


def _report_id(external_ref: str | None) -> uuid.UUID | None:
    """The report id a CRM's reference names, if it names one."""
    try:
        return uuid.UUID((external_ref or "").strip())
    except ValueError:
        return None


class CaseMismatch(Exception):
    """The CRM's case id and the report it names belong to different cases here."""


async def is_ours(
    session: AsyncSession, change: CrmStatusChange, connector: str
) -> bool:
    """Whether the change is about a case of ours at that connector's CRM (a change that
    names our case and another report is: it is kept for an operator)."""
    try:
        return await _find_case(session, change, connector, lock=False) is not None
    except CaseMismatch:
        return True


async def _find_case(
    session: AsyncSession,
    change: CrmStatusChange,
    connector: str,
    *,
    lock: bool = True,
) -> Case | None:
    """This connector's case the change is about (another CRM's numbers may be the same).

    It is the case with the CRM's id; or, when none has it yet (a webhook can beat our own
    record of the case's creation), the case of the report the change names. Where the CRM
    names our report (`external_ref`), the case found must be that report's and know the
    CRM's case by that id or by none yet: a CRM that hands out a number again (restarted,
    restored from a backup, migrated) must never move another report. Otherwise
    CaseMismatch.

    Both are looked for in one statement, so that a case whose creation is recorded while
    the change waits for its lock is seen with the id it got.
    """
    report_id = _report_id(change.external_ref)
    names = Case.crm_case_id == change.case_id
    if report_id is not None:
        names = or_(names, Case.report_id == report_id)
    found = select(Case).where(Case.connector == connector, names).order_by(Case.id)
    if lock:
        found = found.with_for_update().execution_options(populate_existing=True)
    cases = (await session.scalars(found)).all()
    by_id = next((c for c in cases if c.crm_case_id == change.case_id), None)
    if report_id is None:
        return by_id
    if by_id is not None and by_id.report_id != report_id:
        raise CaseMismatch(
            f"the CRM's case {change.case_id} is report {by_id.report_number} here, "
            f"but the change names report {report_id}"
        )
    case = next((c for c in cases if c.report_id == report_id), None)
    if case is not None and case.crm_case_id not in (None, change.case_id):
        raise CaseMismatch(
            f"report {case.report_number} is the CRM's case {case.crm_case_id} here, "
            f"but the change names case {change.case_id}"
        )
    return case


async def apply_crm_change(
    session: AsyncSession, change: CrmStatusChange, connector: str
) -> str | None:
    """Apply the CRM's change to its case, unless it is older than what the case has;
    returns why it was not applied and is kept for an operator, or None.

    A change whose code has no mapping is held (`crm_adapter.statuses`): the case only
    records the raw code. A change of a case that is not ours is left alone: the adapter's
    case row exists before the CRM hears of a report, and every change of it names the
    case by the CRM's id or by the report id. A change whose case id and report disagree
    with ours is applied to neither (`_find_case`).
    """
    try:
        case = await _find_case(session, change, connector)
    except CaseMismatch as mismatch:
        logger.error(
            "case.mismatch",
            extra={
                "connector": connector,
                "crm_case_id": change.case_id,
                "ref": change.external_ref,
                "reason": str(mismatch),
            },
        )
        return str(mismatch)
    if case is None:
        # A case the city filed from a phone call or another system; one naming a report
        # id that has no case here would mean this database lost it, and is worth a look.
        log = logger.warning if _report_id(change.external_ref) else logger.info
        log(
            "case.not_ours",
            extra={
                "connector": connector,
                "crm_case_id": change.case_id,
                "ref": change.external_ref,
            },
        )
        return None
    status = await canonical_status(session, case.connector or "", change.status)
    if status is None:
        # Held for an operator to map, never guessed.
        await hold_change(session, case, change, current=not _stale(case, change))
        return None
    if _same(case, change):
        logger.info("case.change_seen", extra={"report_id": str(case.report_id)})
        return None
    if _stale(case, change):
        # Made before the change the case shows, sent after it: history, not news.
        note = await _unit_note(session, case, change.note)
        emit_status(
            session, case, note=note, changed_at=change.changed_at, superseded=status
        )
        logger.info("case.superseded_change", extra={"report_id": str(case.report_id)})
        return None
    case.crm_version = change.version or case.crm_version
    case.crm_changed_at = max(
        case.crm_changed_at or change.changed_at, change.changed_at
    )
    case.crm_status = change.status
    case.updated_at = utcnow()
    if case.crm_case_id is None:
        case.crm_case_id = change.case_id
        case.state = CaseState.CREATED
        wake_after_commit(session, FORWARDER)
    # The CRM may quote the reporter's own words back (a reopen's note is their comment):
    # they are not the unit's note, and the CRM confirming our reopen is no news to intake.
    note = await _unit_note(session, case, change.note)
    if status != case.status or note:
        set_status(case, status, at=change.changed_at)
        emit_status(session, case, note=note, changed_at=change.changed_at)
    return None


def _same(case: Case, change: CrmStatusChange) -> bool:
    """The version the case shows, sent again under another update id."""
    return change.version is not None and change.version == case.crm_version


def _stale(case: Case, change: CrmStatusChange) -> bool:
    """Older than what the case shows: by the CRM's version where it gives one, else by
    when the CRM made the change (one made at the same moment still applies, in the order
    read)."""
    if change.version is not None:
        return change.version <= case.crm_version
    return case.crm_changed_at is not None and change.changed_at < case.crm_changed_at


async def _unit_note(session: AsyncSession, case: Case, note: str | None) -> str | None:
    """The CRM's note, unless it is only what the case's reporter asked it with."""
    if not note:
        return None
    quoted = await session.scalar(
        select(CaseAction.seq)
        .where(CaseAction.case_id == case.id, CaseAction.comment == note)
        .limit(1)
    )
    return None if quoted is not None else note


async def _case_of_report(session: AsyncSession, report_id: uuid.UUID) -> Case | None:
    return await session.scalar(
        select(Case).where(Case.report_id == report_id).with_for_update()
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
    case = await _case_of_report(session, event.report_id)
    if case is None:
        return f"no case for report {event.report_id}"
    if await session.scalar(
        select(CaseAction.seq).where(CaseAction.id == event.reopen_id)
    ):
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
    case = await _case_of_report(session, event.report_id)
    if case is None:
        return f"no case for report {event.report_id}"
    if await session.scalar(
        select(CaseAction.seq).where(CaseAction.id == event.comment_id)
    ):
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
    case = await session.scalar(
        select(Case).where(Case.report_id == event.report_id).with_for_update()
    )
    if case is None or case.reporter_contact is None:
        return
    case.reporter_contact = None
    case.updated_at = utcnow()
    # The copy of the hand-over kept in the inbox forgets the reporter too.
    kept = await session.scalars(
        select(InboxMessage).where(
            InboxMessage.message_type == "report.submitted.v1",
            InboxMessage.payload.contains(str(event.report_id)),
        )
    )
    for message in kept:
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
