"""Storing intake's events once and acting on them in the same transaction: a submitted
report opens its case, routed to its unit; reopens, comments and erasures go to the case."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases import repository as cases
from crm_adapter.cases.models import Case, CaseState
from crm_adapter.cases.service import (
    PUSHER,
    add_comment,
    forget_reporter,
    request_reopen,
)
from crm_adapter.db import InboxMessage
from crm_adapter.routing.catalog import apply_catalog
from crm_adapter.routing.service import resolve, route_case
from shared.contracts import (
    CatalogChangedV1,
    Event,
    ReportCommentAddedV1,
    ReporterErasedV1,
    ReportReopenRequestedV1,
    ReportStatus,
    ReportSubmittedV1,
)
from shared.db import utcnow
from shared.inbox import receive_envelope
from shared.sla import Calendar, due_at
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)


async def receive_event(
    session: AsyncSession, *, body: bytes, calendar: Calendar
) -> bool:
    """Store the event under its id and act on it; False when it was here already."""
    return await receive_envelope(
        session,
        InboxMessage,
        body=body,
        handler=lambda event: handle_event(session, event, calendar=calendar),
    )


async def handle_event(
    session: AsyncSession, event: Event, *, calendar: Calendar
) -> str | None:
    """Act on one of intake's events; why it could not, or None. `calendar` is the city's,
    which intake counted the report's due time in."""
    if isinstance(event, ReportSubmittedV1):
        await open_case(session, event, calendar=calendar)
        return None
    if isinstance(event, ReportReopenRequestedV1):
        return await request_reopen(session, event)
    if isinstance(event, ReportCommentAddedV1):
        return await add_comment(session, event)
    if isinstance(event, ReporterErasedV1):
        await forget_reporter(session, event)
        return None
    if isinstance(event, CatalogChangedV1):
        return await apply_catalog(session, event)
    return f"not handled here: {event.type}"


async def open_case(
    session: AsyncSession, event: ReportSubmittedV1, *, calendar: Calendar
) -> Case:
    """Route the report and queue its case for the CRM (in the caller's transaction)."""
    existing = await cases.case_of_report(session, event.report_id, lock=False)
    if existing is not None:
        return existing
    routing = await resolve(
        session,
        category=event.category,
        lat=event.location.lat,
        lon=event.location.lon,
    )
    now = utcnow()
    case = Case(
        id=uuid.uuid4(),
        report_id=event.report_id,
        report_number=event.number,
        category=event.category,
        description=event.description,
        attributes=dict(event.attributes),
        lat=event.location.lat,
        lon=event.location.lon,
        photo_ids=[str(photo_id) for photo_id in event.photo_ids],
        reporter_contact=event.reporter_contact.model_dump()
        if event.reporter_contact
        else None,
        submitted_at=event.submitted_at,
        due_at=due_at(
            event.submitted_at,
            calendar=calendar,
            hours=event.resolution_target.hours,
            working_days=event.resolution_target.working_days,
        ),
        closed_at=None,
        status=ReportStatus.RECEIVED,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    route_case(case, routing)
    session.add(case)
    if case.state == CaseState.PENDING:
        wake_after_commit(session, PUSHER)
        logger.info(
            "case.opened",
            extra={"report_id": str(event.report_id), "unit": case.unit_code},
        )
    else:
        logger.warning("case.unroutable", extra={"report_id": str(event.report_id)})
    return case
