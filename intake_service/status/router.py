"""POST /internal/events: signed status events from the CRM adapter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from intake_service.db import InboxMessage
from intake_service.deps import require_manage, require_read
from intake_service.operators.models import OPERATORS
from intake_service.status import service
from shared.deps import SessionDep
from shared.errors import BadSignature, ValidationFailed, problem_responses
from shared.inbox_api import inbox_router
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
    summary="Receive an event from the CRM adapter",
    description="Takes one signed event envelope (Standard Webhooks headers `webhook-id`, "
    "`webhook-timestamp`, `webhook-signature`). Each event id is stored once: a redelivery is "
    "acknowledged with 202 and has no second effect.",
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


operator_inbox_router = inbox_router(
    prefix="/v1/operator",
    model=InboxMessage,
    store=OPERATORS,
    read=require_read,
    manage=require_manage,
    replay=service.replay,
    tags=["operator"],
)
