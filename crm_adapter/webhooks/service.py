"""Storing a CRM webhook once and applying its status change in the same transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.service import apply_crm_change
from crm_adapter.crm.connector import CrmConnector
from crm_adapter.db import InboxMessage
from shared.errors import AppError
from shared.i18n import N_
from shared.inbox import handle_once


class InvalidWebhook(AppError):
    status_code = 422
    code = "invalid-webhook"
    title = N_("Invalid webhook")
    detail = N_("The body is not a status change in this CRM's format: {reason}")


async def receive_webhook(
    session: AsyncSession, *, connector: CrmConnector, body: bytes
) -> bool:
    """False when the CRM sent this update before (it is acknowledged all the same)."""
    try:
        change = connector.parse_webhook(body)
    except ValueError as exc:
        raise InvalidWebhook(reason=str(exc)[:500]) from exc
    return await handle_once(
        session,
        InboxMessage,
        source=f"crm:{connector.name}",
        external_id=change.update_id,
        message_type="crm.status_changed",
        payload=body.decode(),
        handler=lambda: apply_crm_change(session, change),
    )
