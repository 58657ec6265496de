"""Building signed event deliveries the way the other service's relay does."""

from __future__ import annotations

import datetime as dt
import uuid

from shared.contracts import Envelope, ReportStatus, ReportStatusChangedV1
from shared.settings import DEV_SECRETS
from shared.signing import Signer


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
            changed_at=now,
        ),
    )
    return signed(envelope, DEV_SECRETS["adapter_to_intake"])
