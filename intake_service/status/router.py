"""POST /internal/events: signed status events from the CRM adapter."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Depends, Response, status

from intake_service.db import InboxMessage
from intake_service.operators.dependencies import require_manage, require_read
from intake_service.operators.models import OPERATORS
from intake_service.status import service
from shared.contracts import Envelope, ReportStatus, ReportStatusChangedV1
from shared.deps import SessionDep
from shared.errors import BadSignature, ValidationFailed, problem_responses
from shared.guards import MAX_EVENT_BODY_BYTES, BodyTooLarge
from shared.inbox_api import inbox_router
from shared.routes import Router
from shared.webhooks import (
    InvalidEvent,
    MissingSignature,
    SignedMessage,
    envelope_body,
    signed_message,
)

router = Router(tags=["internal"])

EXAMPLE = Envelope(
    id=uuid.UUID("6f1c2b7e-3d4a-4e5f-9a8b-7c6d5e4f3a2b"),
    occurred_at=dt.datetime(2026, 11, 28, 9, 15, 2, tzinfo=dt.UTC),
    source="adapter",
    event=ReportStatusChangedV1(
        report_id=uuid.UUID("0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10"),
        status=ReportStatus.IN_PROGRESS,
        sequence=2,
        unit="zdium",
        note="Ekipa w drodze",
        crm_case_id="CRM-000042",
        crm_status="IN_PROGRESS",
        changed_at=dt.datetime(2026, 11, 28, 9, 15, tzinfo=dt.UTC),
    ),
)


@router.post(
    "/internal/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Receive an event from the CRM adapter",
    description="Takes one signed event envelope (Standard Webhooks headers `webhook-id`, "
    "`webhook-timestamp`, `webhook-signature`). Each event id is stored once: a redelivery is "
    "acknowledged with 202 and has no second effect.",
    openapi_extra={"requestBody": envelope_body(EXAMPLE)},
    responses={
        202: {"description": "Stored (or already stored)."},
        **problem_responses(
            MissingSignature, BadSignature, BodyTooLarge, InvalidEvent, ValidationFailed
        ),
    },
)
async def receive_event(
    session: SessionDep,
    message: Annotated[
        SignedMessage,
        Depends(signed_message("events_verifier", max_bytes=MAX_EVENT_BODY_BYTES)),
    ],
) -> Response:
    await service.receive_event(session, body=message.body)
    return Response(status_code=status.HTTP_202_ACCEPTED)


operator_inbox_router = inbox_router(
    prefix="/v1/operator",
    model=InboxMessage,
    store=OPERATORS,
    read=require_read,
    manage=require_manage,
    replay=service.replay,
    tags=["operator"],
)
