"""Writing notifications and reading a resident's feed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, raiseload

from intake_service.accounts.models import Account
from intake_service.notifications.models import Notification, NotificationKind
from intake_service.reports.models import Report
from shared.contracts import ReportStatus
from shared.db import utcnow


def add_notification(
    session: AsyncSession,
    *,
    account: Account,
    report: Report,
    kind: NotificationKind,
    sequence: int,
    status: ReportStatus,
    note: str | None = None,
) -> Notification:
    """Add a notification to the caller's transaction: the one way residents are told."""
    notification = Notification(
        id=uuid.uuid4(),
        account_id=account.id,
        report_id=report.id,
        kind=kind,
        sequence=sequence,
        status=status,
        note=note,
        created_at=utcnow(),
    )
    session.add(notification)
    return notification


async def feed(
    session: AsyncSession,
    account: Account,
    *,
    limit: int,
    before: tuple[dt.datetime, uuid.UUID] | None = None,
) -> list[Notification]:
    """The account's notifications, newest first, each with its report."""
    query = (
        select(Notification)
        .join(Notification.report)
        .options(
            contains_eager(Notification.report).options(
                raiseload(Report.history), raiseload(Report.photos)
            )
        )
        .where(Notification.account_id == account.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if before is not None:
        created_at, notification_id = before
        query = query.where(
            (Notification.created_at < created_at)
            | (
                (Notification.created_at == created_at)
                & (Notification.id < notification_id)
            )
        )
    return list((await session.scalars(query)).unique().all())


async def unread_count(session: AsyncSession, account: Account) -> int:
    query = select(func.count()).where(
        Notification.account_id == account.id, Notification.read_at.is_(None)
    )
    return (await session.execute(query)).scalar_one()


async def mark_read(
    session: AsyncSession, account: Account, ids: Sequence[uuid.UUID] | None
) -> int:
    """Mark the account's notifications read (the given ones, or all); returns how many."""
    statement = update(Notification).where(
        Notification.account_id == account.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = await session.execute(statement.values(read_at=utcnow()))
    await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
