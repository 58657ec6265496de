"""Exporting everything stored about a resident, and erasing it."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.db import OutboxEvent
from intake_service.feedback.models import Feedback
from intake_service.ideas.models import Idea
from intake_service.notifications.schemas import DeviceRead, NotificationRead
from intake_service.notifications.service import STREAM_BATCH, newer_than
from intake_service.privacy import repository
from intake_service.reports.models import Report
from intake_service.reports.schemas import MyReportRead
from intake_service.wakeups import NOTIFICATIONS
from shared.contracts import Envelope, ReporterErasedV1, without_contact
from shared.db import utcnow
from shared.outbox import add_event
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)


async def export(session: AsyncSession, account: Account) -> dict[str, Any]:
    """Everything stored about the account, as JSON-ready data (GDPR Art. 15 and 20)."""
    lang = account.lang
    reports = await repository.reports_of(session, account.id)
    supported = await repository.supported_report_ids(session, account.id)
    notifications = await _notifications(session, account)
    devices = await repository.devices_of(session, account.id)
    feedback = await repository.feedback_of(session, account.id)
    ideas = await repository.ideas_of(session, account.id)
    surveys = await repository.answered_survey_ids(session, account.id)
    await session.commit()
    return {
        "exported_at": utcnow().isoformat(),
        "account": _account_data(account),
        "reports": [MyReportRead.of(report, lang) for report in reports],
        "supported_reports": [str(report_id) for report_id in supported],
        "notifications": notifications,
        "devices": [DeviceRead.model_validate(device) for device in devices],
        "feedback": [_feedback_data(answer) for answer in feedback],
        "ideas": [_idea_data(idea) for idea in ideas],
        # Which surveys were answered; the answers themselves are stored without a name.
        "surveys_answered": [str(survey_id) for survey_id in surveys],
    }


async def _notifications(
    session: AsyncSession, account: Account
) -> list[NotificationRead]:
    """Every notification of the account in its language, read in batches, oldest first."""
    notifications = []
    position = None
    while batch := await newer_than(session, account.id, position):
        notifications += [NotificationRead.of(n, account.lang) for n in batch]
        position = (batch[-1].created_at, batch[-1].id)
        if len(batch) < STREAM_BATCH:
            break
    return notifications


def _account_data(account: Account) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "email": account.email,
        "email_verified_at": account.email_verified_at,
        "display_name": account.display_name,
        "lang": account.lang,
        "notification_channels": {
            "push": account.notify_push,
            "email": account.notify_email,
        },
        "created_at": account.created_at,
    }


def _feedback_data(answer: Feedback) -> dict[str, Any]:
    return {
        "report_id": str(answer.report_id),
        "fixed": answer.fixed,
        "rating": answer.rating,
        "comment": answer.comment,
        "given_at": answer.created_at,
        "changed_at": answer.updated_at,
    }


def _idea_data(idea: Idea) -> dict[str, Any]:
    return {
        "id": str(idea.id),
        "text": idea.text,
        "topic": idea.topic,
        "category": idea.category_code,
        "location": {"lat": idea.lat, "lon": idea.lon}
        if idea.lat is not None
        else None,
        "sent_at": idea.created_at,
    }


async def erase(session: AsyncSession, account: Account) -> int:
    """Erase the account and everything personal; its reports stay, detached from it.

    One transaction: the reports lose their reporter, "me too"s their supporter, and the
    tokens, devices, notifications and remembered answers go with the account. For each
    report whose contact data went to the CRM an event asks the adapter to erase it there.
    Returns how many reports were detached.
    """
    now = utcnow()
    reports = await repository.reports_of_for_update(session, account.id)
    for report in reports:
        await detach_reporter(session, report, now)
    await repository.detach_supporter(session, account.id)
    await repository.delete_idempotency_records_of(session, account.id)
    account_id = account.id
    await session.delete(account)
    # Open notification streams of the account see it gone and end.
    wake_after_commit(session, NOTIFICATIONS)
    await session.commit()
    logger.info(
        "account.erased", extra={"account_id": str(account_id), "reports": len(reports)}
    )
    return len(reports)


async def detach_reporter(
    session: AsyncSession, report: Report, now: dt.datetime
) -> None:
    """The report keeps its content and loses its reporter; contact data shared with the
    CRM is to be erased there too (an event to the adapter, in the caller's transaction),
    and from the copy of the hand-over event kept here."""
    if report.share_contact:
        for row in await repository.handed_over_events(session, report.id):
            row.payload = without_contact(row.payload)
        add_event(
            session,
            OutboxEvent,
            Envelope(
                occurred_at=now,
                source="intake",
                event=ReporterErasedV1(report_id=report.id, erased_at=now),
            ),
            aggregate_id=report.id,
        )
    report.reporter_id = None
    report.show_name = False
    report.share_contact = False
