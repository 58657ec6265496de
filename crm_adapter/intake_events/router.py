"""POST /internal/events: signed report events from intake."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from crm_adapter.intake_events import service
from shared.deps import SessionDep
from shared.errors import BadSignature, ValidationFailed, problem_responses
from shared.webhooks import (
    BodyTooLarge,
    InvalidEvent,
    MissingSignature,
    SignedMessage,
    signed_message,
)

router = APIRouter(tags=["internal"])


@router.post(
    "/internal/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Receive an event from intake",
    description="Takes one signed event envelope (Standard Webhooks headers). A submitted "
    "report is routed to its unit and queued as a CRM case in the same transaction that stores "
    "the event; a redelivered event id is acknowledged with 202 and changes nothing.",
    responses={
        202: {"description": "Stored (or already stored)."},
        **problem_responses(
            MissingSignature, BadSignature, BodyTooLarge, InvalidEvent, ValidationFailed
        ),
    },
)
async def receive_event(
    session: SessionDep,
    message: Annotated[SignedMessage, Depends(signed_message("events_verifier"))],
) -> Response:
    await service.receive_event(session, body=message.body)
    return Response(status_code=status.HTTP_202_ACCEPTED)
