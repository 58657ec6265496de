"""Queries on moderation events and abuse flags; never commits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from intake_service.moderation.cursor import QueueKey
from intake_service.moderation.models import AbuseFlag, ModerationEvent, ReasonCode
from intake_service.reports.models import Report
from shared.db import upsert_insert


async def report_exists(session: AsyncSession, report_id: uuid.UUID) -> bool:
    found = await session.scalar(select(Report.id).where(Report.id == report_id))
    return found is not None


async def events_of(
    session: AsyncSession, report_id: uuid.UUID
) -> list[ModerationEvent]:
    """The report's moderation history, oldest first."""
    query = (
        select(ModerationEvent)
        .where(ModerationEvent.report_id == report_id)
        .order_by(ModerationEvent.id)
    )
    return list((await session.scalars(query)).all())


async def add_flag(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    flagger: str,
    reason_code: ReasonCode,
    comment: str | None,
    now: dt.datetime,
) -> bool:
    """Store the flag unless this flagger has one open on the report; True when new."""
    statement = (
        upsert_insert(session, AbuseFlag)
        .values(
            id=uuid.uuid4(),
            report_id=report_id,
            flagger=flagger,
            reason_code=reason_code,
            comment=comment,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(AbuseFlag.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def open_reasons(
    session: AsyncSession, report_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Counter[ReasonCode]]:
    """How many open flags of each reason every one of the reports has."""
    reasons: dict[uuid.UUID, Counter[ReasonCode]] = {
        report_id: Counter() for report_id in report_ids
    }
    if report_ids:
        query = (
            select(AbuseFlag.report_id, AbuseFlag.reason_code, func.count())
            .where(AbuseFlag.report_id.in_(report_ids))
            .group_by(AbuseFlag.report_id, AbuseFlag.reason_code)
        )
        for report_id, code, count in await session.execute(query):
            reasons[report_id][code] = count
    return reasons


async def latest_comments(
    session: AsyncSession, report_ids: Sequence[uuid.UUID], *, per_report: int
) -> dict[uuid.UUID, list[str]]:
    """The newest comments of the reports' open flags, at most `per_report` each, however
    many flags a report has."""
    comments: dict[uuid.UUID, list[str]] = {report_id: [] for report_id in report_ids}
    if not report_ids:
        return comments
    rank = (
        func.row_number()
        .over(
            partition_by=AbuseFlag.report_id,
            order_by=(AbuseFlag.created_at.desc(), AbuseFlag.id),
        )
        .label("rank")
    )
    ranked = (
        select(AbuseFlag.report_id, AbuseFlag.comment, AbuseFlag.created_at, rank)
        .where(AbuseFlag.report_id.in_(report_ids), AbuseFlag.comment.is_not(None))
        .subquery()
    )
    query = (
        select(ranked.c.report_id, ranked.c.comment)
        .where(ranked.c.rank <= per_report)
        .order_by(ranked.c.report_id, ranked.c.rank)
    )
    for report_id, comment in await session.execute(query):
        comments[report_id].append(comment)
    return comments


async def resolve_flags(session: AsyncSession, report_id: uuid.UUID) -> int:
    """Drop the report's open flags (they are resolved); how many there were."""
    result = await session.execute(
        delete(AbuseFlag).where(AbuseFlag.report_id == report_id)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # a DELETE's CursorResult


@dataclass(frozen=True)
class Queued:
    report_id: uuid.UUID
    flags: int
    first_flagged_at: dt.datetime
    last_flagged_at: dt.datetime


async def queue(
    session: AsyncSession, *, after: QueueKey | None, limit: int
) -> list[Queued]:
    """Reports with open flags, the most flagged first, then the longest waiting."""
    flags = func.count(AbuseFlag.id)
    first = func.min(AbuseFlag.created_at)
    query = select(
        AbuseFlag.report_id, flags, first, func.max(AbuseFlag.created_at)
    ).group_by(AbuseFlag.report_id)
    if after is not None:
        query = query.having(
            or_(
                flags < after.flags,
                and_(flags == after.flags, first > after.first_flagged_at),
                and_(
                    flags == after.flags,
                    first == after.first_flagged_at,
                    AbuseFlag.report_id > after.report_id,
                ),
            )
        )
    query = query.order_by(flags.desc(), first, AbuseFlag.report_id).limit(limit)
    return [Queued(*row) for row in await session.execute(query)]


async def reports_by_id(
    session: AsyncSession, report_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Report]:
    """The reports, with their category, without their photos and history."""
    if not report_ids:
        return {}
    query = (
        select(Report)
        .where(Report.id.in_(report_ids))
        .options(raiseload(Report.photos), raiseload(Report.history))
    )
    return {report.id: report for report in await session.scalars(query)}
