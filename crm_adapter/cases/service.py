"""Opening cases for submitted reports, and applying the CRM's status changes to them."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case, CaseState
from crm_adapter.crm.connector import CrmStatusChange
from crm_adapter.crm.mapping import canonical_status
from crm_adapter.db import OutboxEvent
from crm_adapter.routing.service import resolve_unit
from shared.contracts import (
    Envelope,
    ReporterErasedV1,
    ReportStatus,
    ReportStatusChangedV1,
    ReportSubmittedV1,
)
from shared.db import utcnow
from shared.outbox import add_event
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)

PUSHER = "cases"
"""Name of the case pusher loop's wake-up."""


async def open_case(session: AsyncSession, event: ReportSubmittedV1) -> Case:
    """Route the report and queue its case for the CRM (in the caller's transaction)."""
    existing = await session.scalar(
        select(Case).where(Case.report_id == event.report_id)
    )
    if existing is not None:
        return existing
    unit = await resolve_unit(session, event.category)
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
        reporter_contact=event.reporter_contact.model_dump()
        if event.reporter_contact
        else None,
        submitted_at=event.submitted_at,
        unit_code=unit.code if unit else None,
        connector=unit.connector if unit else None,
        state=CaseState.PENDING if unit else CaseState.UNROUTABLE,
        status=ReportStatus.RECEIVED,
        next_attempt_at=now,
        last_error=None if unit else f"no route for category {event.category!r}",
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    if unit:
        wake_after_commit(session, PUSHER)
        logger.info(
            "case.opened", extra={"report_id": str(event.report_id), "unit": unit.code}
        )
    else:
        logger.warning("case.unroutable", extra={"report_id": str(event.report_id)})
    return case


def emit_status(
    session: AsyncSession, case: Case, *, note: str | None, changed_at: dt.datetime
) -> None:
    """Tell intake the case's current status, as the next version of it."""
    case.status_version += 1
    now = utcnow()
    event = ReportStatusChangedV1(
        report_id=case.report_id,
        status=ReportStatus(case.status),
        sequence=case.status_version,
        unit=case.unit_code,
        note=note,
        crm_case_id=case.crm_case_id,
        crm_status=case.crm_status,
        changed_at=changed_at,
    )
    add_event(
        session,
        OutboxEvent,
        Envelope(occurred_at=now, source="adapter", event=event),
        aggregate_id=case.report_id,
    )


async def _find_case(session: AsyncSession, change: CrmStatusChange) -> Case | None:
    case = await session.scalar(
        select(Case).where(Case.crm_case_id == change.case_id).with_for_update()
    )
    if case is None and change.external_ref:
        # The webhook can beat our own record of the case's creation.
        try:
            report_id = uuid.UUID(change.external_ref)
        except ValueError:
            return None
        case = await session.scalar(
            select(Case).where(Case.report_id == report_id).with_for_update()
        )
    return case


async def apply_crm_change(
    session: AsyncSession, change: CrmStatusChange
) -> str | None:
    """Apply the CRM's change to its case; returns why it could not be applied, or None.

    A change that cannot be applied leaves the case as it was (only `last_error` says why),
    so that the same change can be applied once an operator has fixed the cause.
    """
    case = await _find_case(session, change)
    if case is None:
        return f"no case for CRM case {change.case_id!r}"
    if change.version is not None and change.version <= case.crm_version:
        logger.info("case.stale_change", extra={"report_id": str(case.report_id)})
        return None
    status = canonical_status(case.connector or "", change.status)
    if status is None:
        case.last_error = f"unmapped CRM status {change.status!r}"
        logger.warning("case.unmapped_status", extra={"report_id": str(case.report_id)})
        return case.last_error
    case.crm_version = change.version or case.crm_version
    case.crm_status = change.status
    case.updated_at = utcnow()
    if case.crm_case_id is None:
        case.crm_case_id = change.case_id
        case.state = CaseState.CREATED
    if status != case.status or change.note:
        case.status = status
        emit_status(session, case, note=change.note, changed_at=change.changed_at)
    return None


async def forget_reporter(session: AsyncSession, event: ReporterErasedV1) -> None:
    """Drop the reporter's contact data from the case (in the caller's transaction)."""
    case = await session.scalar(
        select(Case).where(Case.report_id == event.report_id).with_for_update()
    )
    if case is not None and case.reporter_contact is not None:
        case.reporter_contact = None
        case.updated_at = utcnow()
        logger.info("case.reporter_erased", extra={"report_id": str(event.report_id)})
