"""Building signed event deliveries the way the other service's relay does."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from shared.contracts import (
    Envelope,
    GeoPoint,
    ReportCommentAddedV1,
    ReporterContact,
    ReporterErasedV1,
    ReportReopenRequestedV1,
    ReportStatus,
    ReportStatusChangedV1,
    ReportSubmittedV1,
)
from shared.settings import DEV_SECRETS
from shared.signing import Signer

EVERY_EVENT_TYPE = {
    "report.submitted.v1",
    "report.status_changed.v1",
    "report.reopen_requested.v1",
    "report.comment_added.v1",
    "report.reporter_erased.v1",
    "report.delivery_delayed.v1",
    "catalog.changed.v1",
    "routing.changed.v1",
}
"""Every event type either service takes at `/internal/events`, as its document says."""


def signed(envelope: Envelope, secret: str) -> tuple[bytes, dict[str, str]]:
    body = envelope.model_dump_json().encode()
    headers = {
        "content-type": "application/json",
        **Signer(secret).headers(str(envelope.id), body),
    }
    return body, headers


def status_event(
    report_id: uuid.UUID | str,
    status: ReportStatus,
    sequence: int,
    *,
    unit: str | None = "zdium",
    note: str | None = None,
    reopen_id: uuid.UUID | None = None,
    changed_at: dt.datetime | None = None,
    superseded: bool = False,
) -> tuple[bytes, dict[str, str]]:
    """A status change as the adapter would send it to intake."""
    now = dt.datetime.now(dt.UTC)
    envelope = Envelope(
        occurred_at=now,
        source="adapter",
        event=ReportStatusChangedV1(
            report_id=uuid.UUID(str(report_id)),
            status=status,
            sequence=sequence,
            unit=unit,
            note=note,
            crm_case_id="CRM-000001",
            crm_status="X",
            changed_at=changed_at or now,
            reopen_id=reopen_id,
            superseded=superseded,
        ),
    )
    return signed(envelope, DEV_SECRETS["adapter_to_intake"])


def submitted_event(
    category: str = "pothole",
    report_id: uuid.UUID | None = None,
    *,
    lat: float = 51.1097,
    lon: float = 17.0326,
    contact: ReporterContact | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A submitted report as intake would send it to the adapter."""
    now = dt.datetime.now(dt.UTC)
    envelope = Envelope(
        occurred_at=now,
        source="intake",
        event=ReportSubmittedV1(
            report_id=report_id or uuid.uuid4(),
            number="WRO-2026-000001",
            category=category,
            location=GeoPoint(lat=lat, lon=lon),
            description="Głęboka dziura",
            submitted_at=now,
            reporter_contact=contact,
        ),
    )
    return signed(envelope, DEV_SECRETS["intake_to_adapter"])


def erased_event(report_id: uuid.UUID) -> tuple[bytes, dict[str, str]]:
    """The reporter's erasure of their account, as intake would send it to the adapter."""
    now = dt.datetime.now(dt.UTC)
    envelope = Envelope(
        occurred_at=now,
        source="intake",
        event=ReporterErasedV1(report_id=report_id, erased_at=now),
    )
    return signed(envelope, DEV_SECRETS["intake_to_adapter"])


def reopen_event(
    report_id: uuid.UUID,
    *,
    reopen_id: uuid.UUID | None = None,
    comment: str | None = "Dziura nadal jest",
) -> tuple[bytes, dict[str, str]]:
    """A reporter's reopen as intake would send it to the adapter."""
    now = dt.datetime.now(dt.UTC)
    envelope = Envelope(
        occurred_at=now,
        source="intake",
        event=ReportReopenRequestedV1(
            report_id=report_id,
            reopen_id=reopen_id or uuid.uuid4(),
            comment=comment,
            rating=2,
            after_sequence=3,
            requested_at=now,
        ),
    )
    return signed(envelope, DEV_SECRETS["intake_to_adapter"])


def comment_event(
    report_id: uuid.UUID, *, comment: str = "Nadal stoi na chodniku"
) -> tuple[bytes, dict[str, str]]:
    """A reporter's comment on a rejected report as intake would send it to the adapter."""
    now = dt.datetime.now(dt.UTC)
    envelope = Envelope(
        occurred_at=now,
        source="intake",
        event=ReportCommentAddedV1(
            report_id=report_id,
            comment_id=uuid.uuid4(),
            comment=comment,
            fixed=False,
            rating=1,
            added_at=now,
        ),
    )
    return signed(envelope, DEV_SECRETS["intake_to_adapter"])


def crm_webhook(
    *,
    case_id: str,
    external_ref: str,
    status: str,
    version: int,
    note: str | None = None,
    update_id: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A status webhook as the CRM simulator sends it."""
    body = json.dumps(
        {
            "update_id": update_id or str(uuid.uuid4()),
            "case_id": case_id,
            "external_ref": external_ref,
            "status": status,
            "note": note,
            "version": version,
            "changed_at": dt.datetime.now(dt.UTC).isoformat(),
        }
    ).encode()
    signer = Signer(DEV_SECRETS["crm_webhooks"])
    return body, {
        "content-type": "application/json",
        **signer.headers(str(uuid.uuid4()), body),
    }
