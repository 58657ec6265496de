"""POST /webhooks/crm: status changes pushed by the CRM."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from crm_adapter.deps import CrmConnectorDep
from crm_adapter.webhooks import service
from crm_adapter.webhooks.service import InvalidWebhook
from shared.deps import SessionDep
from shared.errors import BadSignature, ValidationFailed, problem_responses
from shared.webhooks import (
    BodyTooLarge,
    MissingSignature,
    SignedMessage,
    signed_message,
)

router = APIRouter(tags=["crm"])


@router.post(
    "/webhooks/crm",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Receive a status change from the CRM",
    description="The CRM calls this when a case's status changes. The body must be signed "
    "with Standard Webhooks headers (±5 min tolerance; any of the configured secrets is "
    "accepted, so a secret can be rotated live). Each change is stored once: a delivery "
    "whose `webhook-id` or whose CRM `update_id` was seen before is acknowledged and "
    "changes nothing (both ids are kept for `ADAPTER_INBOX_RETENTION_DAYS`, at least 7 "
    "days). The change is applied before the answer: mapped onto the canonical statuses "
    "through the status mapping (a code it does not know is held for an operator, never "
    "guessed; see `GET /admin/unmapped`), never over a newer version of the case, and "
    "passed on to intake. Example body:\n\n"
    "```json\n"
    '{"update_id": "3f0c…", "case_id": "CRM-000042", "external_ref": "<report id>",\n'
    ' "status": "IN_PROGRESS", "note": "Ekipa w drodze", "version": 2,\n'
    ' "changed_at": "2026-11-28T09:15:00Z"}\n'
    "```",
    responses={
        202: {"description": "Stored (or already stored)."},
        **problem_responses(
            MissingSignature,
            BadSignature,
            BodyTooLarge,
            InvalidWebhook,
            ValidationFailed,
        ),
    },
)
async def receive_crm_webhook(
    session: SessionDep,
    connector: CrmConnectorDep,
    message: Annotated[SignedMessage, Depends(signed_message("crm_webhook_verifier"))],
) -> Response:
    change = service.parse_change(connector, message.body)
    await service.receive_webhook(
        session,
        connector=connector,
        change=change,
        delivery_id=message.id,
        payload=message.body.decode(),
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)
