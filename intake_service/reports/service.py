"""Filing a report and reading it back."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.categories import service as categories
from intake_service.db import OutboxEvent
from intake_service.reports import repository
from intake_service.reports.exceptions import ReportNotFound, UnknownCategory
from intake_service.reports.models import Report, ReportStatusChange
from intake_service.reports.schemas import ReportCreate
from shared.contracts import Envelope, GeoPoint, ReportStatus, ReportSubmittedV1
from shared.db import utcnow
from shared.outbox import add_event


async def submit_report(
    session: AsyncSession,
    *,
    data: ReportCreate,
    reporter: Account | None,
    number_prefix: str,
) -> Report:
    """Store the report and its hand-over event in one transaction."""
    category = await categories.get_active(session, data.category)
    if category is None:
        raise UnknownCategory(category=data.category)
    now = utcnow()
    serial = await repository.next_number(session, now.year)
    report = Report(
        id=uuid.uuid4(),
        number=f"{number_prefix}-{now.year}-{serial:06d}",
        category=category,
        lat=data.location.lat,
        lon=data.location.lon,
        description=data.description,
        reporter_id=reporter.id if reporter else None,
        status=ReportStatus.RECEIVED,
        created_at=now,
        updated_at=now,
        expected_resolution_at=now
        + dt.timedelta(hours=category.expected_resolution_hours),
        unit=None,
        history=[
            ReportStatusChange(status=ReportStatus.RECEIVED, sequence=0, changed_at=now)
        ],
    )
    session.add(report)
    event = ReportSubmittedV1(
        report_id=report.id,
        number=report.number,
        category=category.code,
        location=GeoPoint(lat=report.lat, lon=report.lon),
        description=report.description,
        submitted_at=now,
    )
    add_event(
        session,
        OutboxEvent,
        Envelope(occurred_at=now, source="intake", event=event),
        aggregate_id=report.id,
    )
    await session.commit()
    return report


async def get_report(session: AsyncSession, report_id: uuid.UUID) -> Report:
    report = await repository.get(session, report_id)
    if report is None:
        raise ReportNotFound()
    return report
