"""POST /webhooks/crm: status changes pushed by the CRM."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response, status

from crm_adapter.crm.rest_json import webhook_schema
from crm_adapter.deps import CrmConnectorDep
from crm_adapter.statuses import receive
from crm_adapter.statuses.receive import InvalidWebhook
from shared.deps import SessionDep
from shared.errors import BadSignature, ValidationFailed, problem_responses
from shared.guards import BodyTooLarge
from shared.routes import Router
from shared.webhooks import (
    MissingSignature,
    SignedMessage,
    signed_message,
)

router = Router(tags=["crm"])

EXAMPLE = {
    "update_id": "3f0c9a4e-7b1d-4c2a-9e55-8d1f0b6a2c7e",
    "case_id": "CRM-000042",
    "external_ref": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
    "status": "IN_PROGRESS",
    "note": "Ekipa w drodze",
    "version": 2,
    "changed_at": "2026-11-28T09:15:00Z",
}


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
    "days; a `webhook-id` may be of any length). A field longer than the schema allows "
    "(the lengths the adapter stores) is a 422 and nothing is stored. The change is "
    "applied before the answer: mapped onto the canonical statuses through the status "
    "mapping (a code it does not know is held for an operator, never guessed; see "
    "`GET /admin/unmapped`), never over a newer version of the case, and passed on to "
    "intake.",
    # The body is read as the signed bytes, before it is parsed: its schema is shown here.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": webhook_schema(), "example": EXAMPLE}
            },
        }
    },
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
    change = receive.parse_change(connector, message.body)
    await receive.receive_webhook(
        session,
        connector=connector,
        change=change,
        delivery_id=message.id,
        payload=message.body.decode(),
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)
