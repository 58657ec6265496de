"""Reporters' answers to "was it really fixed?", and what a "no" does.

A reporter is asked once per closing (see `intake_service.status.service`) and answers once
per closing; they may change the answer for 7 days. A "not fixed" answer is passed on:

- on a **resolved** report it reopens the report: `reopened` at once for residents, with the
  comment as the note of the history entry (shown to the reporter only), and
  `report.reopen_requested.v1` to the adapter through the outbox, after the report's earlier
  events, for the CRM case to be reopened;
- on a **rejected** report it does not reopen anything (the unit decided the city will not
  act; residents cannot overrule that), but its comment reaches the CRM case as a comment
  (`report.comment_added.v1`), and the answer counts in the unit's figures.

A "fixed" answer, and a "not fixed" one about an earlier closing, are only recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.feedback import repository
from intake_service.feedback.exceptions import (
    FeedbackAlreadyGiven,
    FeedbackLocked,
    FeedbackNotFound,
    NotTheReporter,
    ReportNotClosed,
)
from intake_service.feedback.models import Feedback
from intake_service.feedback.schemas import FeedbackCreate
from intake_service.notifications.models import NotificationKind
from intake_service.notifications.service import add_notification
from intake_service.reports import repository as reports
from intake_service.reports.exceptions import ReportNotFound
from intake_service.reports.models import Report
from intake_service.reports.reopening import reopen, send
from shared.contracts import (
    ReportCommentAddedV1,
    ReportStatus,
)
from shared.db import utcnow

logger = logging.getLogger(__name__)

EDIT_WINDOW = dt.timedelta(days=7)
"""How long after giving it a reporter may change their answer."""


async def _own_report(
    session: AsyncSession, report_id: uuid.UUID, account: Account
) -> Report:
    """The account's own report, locked. Reports are public: anyone else's (a supporter's,
    say) is refused as not theirs to answer.

    An unverified account's reports are not named yet (it was never asked): not found.
    """
    report = await reports.get(session, report_id, for_update=True)
    if report is None:
        raise ReportNotFound()
    if report.reporter_id != account.id:
        raise NotTheReporter()
    if account.email_verified_at is None:
        raise ReportNotFound()
    return report


async def give_feedback(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    account: Account,
    data: FeedbackCreate,
) -> Feedback:
    """Record the reporter's answer about the report's current closing, and pass it on."""
    report = await _own_report(session, report_id, account)
    if report.closed_sequence is None:
        raise ReportNotClosed()
    if await repository.for_closing(session, report.id, report.closed_sequence):
        raise FeedbackAlreadyGiven()
    now = utcnow()
    feedback = Feedback(
        id=uuid.uuid4(),
        report_id=report.id,
        account_id=account.id,
        closing_sequence=report.closed_sequence,
        closed_status=report.status,
        unit_code=report.unit_code,
        category_code=report.category_code,
        fixed=data.fixed,
        rating=data.rating,
        comment=data.comment,
        reopened=False,
        created_at=now,
        updated_at=now,
    )
    session.add(feedback)
    report.feedback_fixed = feedback.fixed
    if not feedback.fixed:
        await _not_fixed(session, report, feedback, now=now)
    await session.commit()
    logger.info(
        "feedback.given",
        extra={"report_id": str(report.id), "reopened": feedback.reopened},
    )
    return feedback


async def change_feedback(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    account: Account,
    data: FeedbackCreate,
) -> Feedback:
    """Change the reporter's latest answer within `EDIT_WINDOW` of giving it.

    Turning "fixed" into "not fixed" while that closing still stands acts as a first "not
    fixed" would; a new comment on a rejected report reaches the CRM too. A report reopened
    already is not reopened again, nor closed by turning the answer back into "fixed": the
    CRM has it again, and its unit decides.
    """
    report = await _own_report(session, report_id, account)
    feedback = await repository.latest(session, report.id)
    if feedback is None:
        raise FeedbackNotFound()
    now = utcnow()
    if now - feedback.created_at > EDIT_WINDOW:
        raise FeedbackLocked()
    was_fixed, old_comment = feedback.fixed, feedback.comment
    feedback.fixed = data.fixed
    feedback.rating = data.rating
    feedback.comment = data.comment
    feedback.updated_at = now
    if feedback.closing_sequence == report.closed_sequence:
        report.feedback_fixed = feedback.fixed
        if not feedback.fixed and (was_fixed or feedback.comment != old_comment):
            await _not_fixed(session, report, feedback, now=now)
    await session.commit()
    return feedback


async def read_feedback(
    session: AsyncSession, *, report_id: uuid.UUID, account: Account
) -> Feedback:
    report = await reports.get(session, report_id)
    if report is None:
        raise ReportNotFound()
    if report.reporter_id != account.id:
        raise NotTheReporter()
    feedback = await repository.latest(session, report.id)
    if feedback is None:
        raise FeedbackNotFound()
    return feedback


async def _not_fixed(
    session: AsyncSession, report: Report, feedback: Feedback, *, now: dt.datetime
) -> None:
    if report.status == ReportStatus.RESOLVED:
        await _reopen(session, report, feedback, now=now)
    elif feedback.comment:
        send(
            session,
            report,
            ReportCommentAddedV1(
                report_id=report.id,
                comment_id=uuid.uuid4(),
                comment=feedback.comment,
                fixed=feedback.fixed,
                rating=feedback.rating,
                added_at=now,
            ),
            now=now,
        )


async def _reopen(
    session: AsyncSession, report: Report, feedback: Feedback, *, now: dt.datetime
) -> None:
    """Reopen for residents now, and ask the adapter to reopen the CRM case.

    The report stays `reopened` whatever the adapter sent before it took the request: see
    `intake_service.status.service` for how changes already on their way are set aside.
    """
    sequence = reopen(
        session,
        report,
        comment=feedback.comment,
        rating=feedback.rating,
        note=feedback.comment,
        now=now,
    )
    feedback.reopened = True
    # Supporters follow the report's status; the reporter knows, and their comment is theirs.
    for account in await reports.followers(session, report):
        if account.id != report.reporter_id:
            await add_notification(
                session,
                account=account,
                report=report,
                kind=NotificationKind.STATUS_CHANGED,
                sequence=sequence,
                status=ReportStatus.REOPENED,
            )
    logger.info("feedback.reopened", extra={"report_id": str(report.id)})
