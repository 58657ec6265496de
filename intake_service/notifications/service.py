"""Writing and reading notifications."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.notifications.models import Notification
from intake_service.reports.models import Report
from intake_service.status.texts import status_changed_text
from shared.contracts import ReportStatus
from shared.db import utcnow
from shared.i18n import pick


def notify_status_change(
    session: AsyncSession,
    *,
    account: Account,
    report: Report,
    sequence: int,
    status: ReportStatus,
    note: str | None,
) -> None:
    """Add the notification to the caller's transaction, in the account's language."""
    session.add(
        Notification(
            id=uuid.uuid4(),
            account_id=account.id,
            report_id=report.id,
            sequence=sequence,
            status=status,
            text=status_changed_text(
                number=report.number,
                category=pick(report.category.names, account.lang),
                status=status,
                note=note,
                lang=account.lang,
            ),
            created_at=utcnow(),
        )
    )


async def list_for(
    session: AsyncSession, account: Account, *, limit: int
) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.account_id == account.id)
        .order_by(Notification.created_at.desc(), Notification.sequence.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
