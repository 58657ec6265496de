"""Queries on what is stored about residents, to export it, erase it or let it age out;
never commits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account, Device
from intake_service.db import OutboxEvent
from intake_service.feedback.models import Feedback
from intake_service.ideas.models import Idea
from intake_service.idempotency.models import IdempotencyRecord
from intake_service.notifications.models import Notification
from intake_service.reports.models import Report, ReportSupporter
from intake_service.surveys.models import SurveyParticipant


async def reports_of(session: AsyncSession, account_id: uuid.UUID) -> list[Report]:
    """The reports the account filed, oldest first."""
    query = (
        select(Report)
        .where(Report.reporter_id == account_id)
        .order_by(Report.created_at)
    )
    return list((await session.scalars(query)).all())


async def supported_report_ids(
    session: AsyncSession, account_id: uuid.UUID
) -> list[uuid.UUID]:
    """The reports the account said "me too" to."""
    query = select(ReportSupporter.report_id).where(
        ReportSupporter.account_id == account_id
    )
    return list((await session.scalars(query)).all())


async def devices_of(session: AsyncSession, account_id: uuid.UUID) -> list[Device]:
    """The devices the account registered for pushes."""
    query = select(Device).where(Device.account_id == account_id)
    return list((await session.scalars(query)).all())


async def feedback_of(session: AsyncSession, account_id: uuid.UUID) -> list[Feedback]:
    """The account's answers whether reports were fixed, oldest first."""
    query = (
        select(Feedback)
        .where(Feedback.account_id == account_id)
        .order_by(Feedback.created_at)
    )
    return list((await session.scalars(query)).all())


async def ideas_of(session: AsyncSession, account_id: uuid.UUID) -> list[Idea]:
    """The ideas the account sent, oldest first."""
    query = select(Idea).where(Idea.account_id == account_id).order_by(Idea.created_at)
    return list((await session.scalars(query)).all())


async def answered_survey_ids(
    session: AsyncSession, account_id: uuid.UUID
) -> list[uuid.UUID]:
    """The surveys the account answered (the answers are stored without its name)."""
    query = select(SurveyParticipant.survey_id).where(
        SurveyParticipant.account_id == account_id
    )
    return list((await session.scalars(query)).all())


async def reports_of_for_update(
    session: AsyncSession, account_id: uuid.UUID
) -> list[Report]:
    """The reports the account filed, locked."""
    query = (
        select(Report)
        .where(Report.reporter_id == account_id)
        .with_for_update(of=Report)
    )
    return list((await session.scalars(query)).all())


async def detach_supporter(session: AsyncSession, account_id: uuid.UUID) -> None:
    """The account's "me too"s stay and lose their account."""
    await session.execute(
        update(ReportSupporter)
        .where(ReportSupporter.account_id == account_id)
        .values(account_id=None)
    )


async def delete_idempotency_records_of(
    session: AsyncSession, account_id: uuid.UUID
) -> None:
    """The answers remembered for the account's requests (their scope starts with its id)."""
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope.startswith(f"{account_id} ")
        )
    )


async def handed_over_events(
    session: AsyncSession, report_id: uuid.UUID
) -> list[OutboxEvent]:
    """The events that handed the report over to the CRM."""
    query = select(OutboxEvent).where(
        OutboxEvent.aggregate_id == report_id,
        OutboxEvent.event_type == "report.submitted.v1",
    )
    return list((await session.scalars(query)).all())


async def inactive_accounts(
    session: AsyncSession, cutoff: dt.datetime, limit: int
) -> list[Account]:
    """Up to `limit` accounts neither used nor reporting since `cutoff`."""
    # Signing out ends a sign-in but not the resident's use of the app: the account keeps
    # the time of its last sign-in or refresh.
    active = func.coalesce(Account.last_active_at, Account.created_at)
    recent_report = exists().where(
        Report.reporter_id == Account.id, Report.created_at >= cutoff
    )
    query = select(Account).where(active < cutoff, ~recent_report).limit(limit)
    return list((await session.scalars(query)).all())


async def reports_tied_to_people(
    session: AsyncSession,
    *,
    statuses: Collection[str],
    updated_before: dt.datetime,
    limit: int,
) -> list[Report]:
    """Up to `limit` reports in one of `statuses`, unchanged since `updated_before`, that
    a person is still tied to; locked."""
    supporters = exists().where(
        ReportSupporter.report_id == Report.id, ReportSupporter.account_id.is_not(None)
    )
    # The in-app feed and the feedback tie people to the report as much as its reporter.
    notified = exists().where(Notification.report_id == Report.id)
    judged = exists().where(
        Feedback.report_id == Report.id, Feedback.account_id.is_not(None)
    )
    query = (
        select(Report)
        .where(
            Report.status.in_(statuses),
            Report.updated_at < updated_before,
            Report.reporter_id.is_not(None) | supporters | notified | judged,
        )
        .limit(limit)
        .with_for_update(of=Report)
    )
    return list((await session.scalars(query)).all())


async def untie_people(session: AsyncSession, report_id: uuid.UUID) -> None:
    """The report's "me too"s and feedback lose their accounts; its notifications go."""
    await session.execute(
        update(ReportSupporter)
        .where(ReportSupporter.report_id == report_id)
        .values(account_id=None)
    )
    await session.execute(
        delete(Notification).where(Notification.report_id == report_id)
    )
    await session.execute(
        update(Feedback).where(Feedback.report_id == report_id).values(account_id=None)
    )


async def delete_expired_idempotency_records(
    session: AsyncSession, now: dt.datetime
) -> int:
    """Every idempotency record past its expiry; returns how many went."""
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
