"""Counting what intake's `/metrics` shows, in the database at each scrape; never writes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.categories.models import Category
from intake_service.notifications.models import NotificationDelivery
from intake_service.reports.models import Report


async def category_codes(session: AsyncSession) -> list[str]:
    """Every category, active or not: the label values of the reports' figure."""
    # The primary key of `categories`, a table of a few dozen rows.
    return list((await session.scalars(select(Category.code))).all())


async def reports_by_category(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Reports by (category, channel)."""
    # ix_reports_category_code_channel holds both: PostgreSQL counts from the index alone,
    # SQLite walks the index rather than the table.
    rows = await session.execute(
        select(Report.category_code, Report.channel, func.count()).group_by(
            Report.category_code, Report.channel
        )
    )
    return {(category, channel): count for category, channel, count in rows.all()}


@dataclass(frozen=True)
class DeliveryCount:
    """Notification deliveries of one channel in one status, and their attempts."""

    channel: str
    status: str
    deliveries: int
    attempts: int


async def deliveries_by_channel(session: AsyncSession) -> list[DeliveryCount]:
    """Per channel and status, the deliveries and the attempts made at them."""
    # No index serves the sums: one pass over `notification_deliveries` (a row per
    # notification and channel). ix_notification_deliveries_status_next leads with the
    # status but holds neither the channel nor the attempts.
    d = NotificationDelivery
    rows = await session.execute(
        select(d.channel, d.status, func.count(), func.sum(d.attempts)).group_by(
            d.channel, d.status
        )
    )
    return [
        DeliveryCount(channel, str(status), n, int(attempts or 0))
        for channel, status, n, attempts in rows
    ]
