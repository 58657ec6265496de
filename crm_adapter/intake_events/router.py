"""POST /internal/events: signed report events from intake."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Depends, Response, status

from crm_adapter.deps import SettingsDep
from crm_adapter.intake_events import service
from shared.contracts import Envelope, GeoPoint, ReportSubmittedV1
from shared.deps import SessionDep
from shared.errors import BadSignature, ValidationFailed, problem_responses
from shared.guards import MAX_EVENT_BODY_BYTES, BodyTooLarge
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
    id=uuid.UUID("3a7e9c1d-5b2f-4d6a-8e0c-1f2a3b4c5d6e"),
    occurred_at=dt.datetime(2026, 11, 28, 8, 0, 1, tzinfo=dt.UTC),
    source="intake",
    event=ReportSubmittedV1(
        report_id=uuid.UUID("0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10"),
        number="WRO-2026-000042",
        category="pothole",
        location=GeoPoint(lat=51.1097, lon=17.0326),
        description="Głęboka dziura na prawym pasie",
        submitted_at=dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC),
    ),
)


@router.post(
    "/internal/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Receive an event from intake",
    description="Takes one signed event envelope (Standard Webhooks headers). A submitted "
    "report is routed to its unit and queued as a CRM case in the same transaction that stores "
    "the event; a redelivered event id is acknowledged with 202 and changes nothing.",
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
    settings: SettingsDep,
    message: Annotated[
        SignedMessage,
        Depends(signed_message("events_verifier", max_bytes=MAX_EVENT_BODY_BYTES)),
    ],
) -> Response:
    await service.receive_event(session, body=message.body, calendar=settings.calendar)
    return Response(status_code=status.HTTP_202_ACCEPTED)
