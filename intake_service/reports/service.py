"""Filing a report and reading it back."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.area.service import ServiceArea
from intake_service.categories import service as categories
from intake_service.db import OutboxEvent
from intake_service.idempotency import service as idempotency
from intake_service.idempotency.exceptions import IdempotentRequestInProgress
from intake_service.idempotency.service import IdempotentRequest
from intake_service.reports import repository
from intake_service.reports.exceptions import ReportNotFound, UnknownCategory
from intake_service.reports.models import Report, ReportStatusChange
from intake_service.reports.schemas import ReportCreate, ReportRead
from shared.contracts import Envelope, GeoPoint, ReportStatus, ReportSubmittedV1
from shared.db import utcnow
from shared.outbox import add_event


@dataclass(frozen=True)
class Submitted:
    """The answer to a report submission; `replayed` when it is the answer to an earlier one."""

    body: dict[str, Any]
    replayed: bool


async def submit_report(
    session: AsyncSession,
    *,
    data: ReportCreate,
    reporter: Account | None,
    number_prefix: str,
    area: ServiceArea,
    lang: str,
    idempotency_key: str | None,
) -> Submitted:
    """Store the report, its hand-over event and the answer under the idempotency key, all in
    one transaction; a retry with the same key gets the first answer and creates nothing."""
    request = None
    if idempotency_key is not None:
        request = IdempotentRequest(
            scope=f"{reporter.id if reporter else 'anonymous'} POST /v1/reports",
            key=idempotency.parse_key(idempotency_key),
            fingerprint=idempotency.fingerprint(data.model_dump(mode="json")),
        )
        if (stored := await idempotency.find_answer(session, request)) is not None:
            return Submitted(body=stored.body, replayed=True)
    area.check(data.location.lat, data.location.lon)
    report = await _new_report(
        session, data=data, reporter=reporter, number_prefix=number_prefix
    )
    body = ReportRead.of(report, lang).model_dump(mode="json")
    if request is not None:
        idempotency.record_answer(
            session, request, status=201, body=body, resource_id=report.id
        )
    try:
        await session.commit()
    except IntegrityError:
        # On PostgreSQL a concurrent request with the same key committed first.
        await session.rollback()
        if request is None:
            raise
        if (stored := await idempotency.find_answer(session, request)) is None:
            raise IdempotentRequestInProgress() from None
        return Submitted(body=stored.body, replayed=True)
    return Submitted(body=body, replayed=False)


async def _new_report(
    session: AsyncSession,
    *,
    data: ReportCreate,
    reporter: Account | None,
    number_prefix: str,
) -> Report:
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
    return report


async def get_report(session: AsyncSession, report_id: uuid.UUID) -> Report:
    report = await repository.get(session, report_id)
    if report is None:
        raise ReportNotFound()
    return report
