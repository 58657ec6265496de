"""A report reopened by the residents' side (its reporter's "not fixed", an Open311 client's
update), and the events of a report intake sends to the adapter.

Intake shows the report `reopened` at once, a change of its own outside the adapter's
sequence: its history entries count down from 0, clear of the adapter's. The reopen's id
waits in `Report.pending_reopen_id` until the adapter answers it, so that changes it sent
before it took the reopen are set aside (see `intake_service.status.service`).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db import OutboxEvent
from intake_service.reports.models import Report, ReportStatusChange
from shared.contracts import Envelope, Event, ReportReopenRequestedV1, ReportStatus
from shared.outbox import add_event


def send(
    session: AsyncSession, report: Report, event: Event, *, now: dt.datetime
) -> None:
    """Queue `event` about `report` for the adapter (the report's row is locked, so the
    outbox keeps it after the report's earlier events)."""
    add_event(
        session,
        OutboxEvent,
        Envelope(occurred_at=now, source="intake", event=event),
        aggregate_id=report.id,
    )


def reopen(
    session: AsyncSession,
    report: Report,
    *,
    comment: str | None,
    rating: int,
    note: str | None,
    now: dt.datetime,
    reopen_id: uuid.UUID | None = None,
) -> int:
    """Show the locked `report` reopened now and ask the adapter to reopen the CRM case
    with `comment` and `rating`; `note` goes into the history (shown to the reporter).
    Returns the history entry's sequence."""
    reopen_id = reopen_id or uuid.uuid4()
    sequence = min([0, *(change.sequence for change in report.history)]) - 1
    report.status = ReportStatus.REOPENED
    report.closed_sequence = None
    report.pending_reopen_id = reopen_id
    report.updated_at = now
    report.history.append(
        ReportStatusChange(
            status=ReportStatus.REOPENED,
            sequence=sequence,
            note=note,
            changed_at=now,
            by_reporter=True,
        )
    )
    send(
        session,
        report,
        ReportReopenRequestedV1(
            report_id=report.id,
            reopen_id=reopen_id,
            comment=comment,
            rating=rating,
            after_sequence=report.status_sequence,
            requested_at=now,
        ),
        now=now,
    )
    return sequence
