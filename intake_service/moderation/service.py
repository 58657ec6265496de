"""Operators hide and show again a report's description or photos, and resolve residents'
abuse flags; residents flag reports.

Each change is one transaction: the report (or photo) itself, the moderation event with the
operator's reason, the reporter's notification and the audit row. Hiding what is hidden,
or showing what is shown, changes nothing and tells nobody. Hiding resolves the report's
open flags; so does dismissing them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.moderation import repository
from intake_service.moderation.cursor import (
    QueueKey,
    decode_queue_cursor,
    encode_queue_cursor,
)
from intake_service.moderation.exceptions import ReportPhotoNotFound
from intake_service.moderation.models import (
    ModerationAction,
    ModerationEvent,
    ReasonCode,
)
from intake_service.moderation.repository import Queued
from intake_service.moderation.schemas import AbuseFlagCreate, ModerationReason
from intake_service.notifications.models import NotificationKind
from intake_service.notifications.service import add_notification
from intake_service.operators import audit
from intake_service.photos.models import Photo
from intake_service.reports import repository as reports
from intake_service.reports.exceptions import ReportNotFound
from intake_service.reports.models import Report
from shared.db import utcnow
from shared.operators import Operator

_TOLD_AS = {
    ModerationAction.HIDE_DESCRIPTION: NotificationKind.DESCRIPTION_HIDDEN,
    ModerationAction.RESTORE_DESCRIPTION: NotificationKind.DESCRIPTION_RESTORED,
    ModerationAction.HIDE_PHOTO: NotificationKind.PHOTO_HIDDEN,
    ModerationAction.RESTORE_PHOTO: NotificationKind.PHOTO_RESTORED,
}


@dataclass(frozen=True)
class Moderated:
    """A report with its moderation history and its open flags by reason."""

    report: Report
    events: list[ModerationEvent]
    reasons: Counter[ReasonCode]


async def moderated_report(session: AsyncSession, report_id: uuid.UUID) -> Moderated:
    report = await reports.get(session, report_id)
    if report is None:
        raise ReportNotFound()
    return await _moderated(session, report)


async def _moderated(session: AsyncSession, report: Report) -> Moderated:
    events = await repository.events_of(session, report.id)
    reasons = (await repository.open_reasons(session, [report.id]))[report.id]
    await session.commit()
    return Moderated(report, events, reasons)


async def _locked(session: AsyncSession, report_id: uuid.UUID) -> Report:
    report = await reports.get(session, report_id, for_update=True)
    if report is None:
        raise ReportNotFound()
    return report


def _photo_of(report: Report, photo_id: uuid.UUID) -> Photo:
    for photo in report.photos:
        if photo.id == photo_id:
            return photo
    raise ReportPhotoNotFound()


async def set_description_hidden(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    hidden: bool,
    why: ModerationReason,
    operator: Operator,
) -> Moderated:
    report = await _locked(session, report_id)
    if (report.description_hidden_at is not None) != hidden:
        now = utcnow()
        report.description_hidden_at = now if hidden else None
        action = (
            ModerationAction.HIDE_DESCRIPTION
            if hidden
            else ModerationAction.RESTORE_DESCRIPTION
        )
        await _record(session, report, operator, action, why, now=now)
    return await _moderated(session, report)


async def set_photo_hidden(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    photo_id: uuid.UUID,
    hidden: bool,
    why: ModerationReason,
    operator: Operator,
) -> Moderated:
    report = await _locked(session, report_id)
    photo = _photo_of(report, photo_id)
    if (photo.hidden_at is not None) != hidden:
        now = utcnow()
        photo.hidden_at = now if hidden else None
        action = (
            ModerationAction.HIDE_PHOTO if hidden else ModerationAction.RESTORE_PHOTO
        )
        await _record(session, report, operator, action, why, now=now, photo=photo)
    return await _moderated(session, report)


async def dismiss_flags(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    why: ModerationReason,
    operator: Operator,
) -> Moderated:
    """Resolve the report's open flags without hiding anything (none open: nothing)."""
    report = await _locked(session, report_id)
    resolved = await repository.resolve_flags(session, report.id)
    if resolved:
        await _record(
            session,
            report,
            operator,
            ModerationAction.DISMISS_FLAGS,
            why,
            now=utcnow(),
            resolved=resolved,
        )
    return await _moderated(session, report)


async def _record(
    session: AsyncSession,
    report: Report,
    operator: Operator,
    action: ModerationAction,
    why: ModerationReason,
    *,
    now: dt.datetime,
    photo: Photo | None = None,
    resolved: int = 0,
) -> None:
    """Write the event, tell the reporter, audit it and commit; hiding resolves the flags."""
    if action.hides:
        resolved = await repository.resolve_flags(session, report.id)
    if action is not ModerationAction.DISMISS_FLAGS:
        # What the public sees changed: lists synced with `since` read it again.
        report.updated_at = now
    event = ModerationEvent(
        report_id=report.id,
        action=action,
        photo_id=photo.id if photo else None,
        reason_code=why.reason_code,
        reason=why.reason,
        operator_name=operator.name,
        flags_resolved=resolved,
        occurred_at=now,
    )
    session.add(event)
    await session.flush()  # its id numbers the reporter's notification
    kind = _TOLD_AS.get(action)
    reporter = report.reporter
    if (
        kind is not None
        and reporter is not None
        and reporter.email_verified_at is not None
    ):
        await add_notification(
            session,
            account=reporter,
            report=report,
            kind=kind,
            sequence=event.id,
            status=report.status,
            # The reporter is told the reason's name, never the operator's words.
            note=why.reason_code.value if why.reason_code and action.hides else None,
        )
    details: dict[str, object] = {
        "reason_code": why.reason_code.value if why.reason_code else None,
        "reason": why.reason,
        "event_id": event.id,
    }
    if photo is not None:
        details["photo_id"] = str(photo.id)
    if resolved:
        details["flags_resolved"] = resolved
    row = audit.record(
        session,
        operator,
        action=f"report.{action.value}",
        target_type="report",
        target_id=report.id,
        details=details,
    )
    await audit.commit(session, row)


async def flag_report(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    data: AbuseFlagCreate,
    flagger: str,
) -> bool:
    """Add a resident's flag to the queue; one open flag per flagger and report counts
    (True when this one is new)."""
    if not await repository.report_exists(session, report_id):
        raise ReportNotFound()
    added = await repository.add_flag(
        session,
        report_id=report_id,
        flagger=flagger,
        reason_code=data.reason_code,
        comment=data.comment or None,
        now=utcnow(),
    )
    await session.commit()
    return added


COMMENTS_SHOWN = 5
"""The newest comments the queue shows of a report's open flags."""


@dataclass(frozen=True)
class QueueEntry:
    queued: Queued
    report: Report
    reasons: Counter[ReasonCode]
    comments: list[str]


async def queue(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[QueueEntry], str | None]:
    """One page of the reports with open flags, and the next page's cursor (None at the
    end): four queries whatever the page's size."""
    after = decode_queue_cursor(cursor) if cursor else None
    found = await repository.queue(session, after=after, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    ids = [queued.report_id for queued in page]
    by_id = await repository.reports_by_id(session, ids)
    reasons = await repository.open_reasons(session, ids)
    comments = await repository.latest_comments(session, ids, per_report=COMMENTS_SHOWN)
    await session.commit()
    entries = [
        QueueEntry(q, by_id[q.report_id], reasons[q.report_id], comments[q.report_id])
        for q in page
        if q.report_id in by_id  # unless deleted meanwhile
    ]
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = encode_queue_cursor(
            QueueKey(last.flags, last.first_flagged_at, last.report_id)
        )
    return entries, next_cursor
