"""Storing a CRM status change once and applying it in the same transaction: the one path of
both the CRM's webhooks and the pollers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.service import apply_crm_change
from crm_adapter.crm.connector import CrmConnector, CrmStatusChange
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
    return await receive_change(
        session, connector_name=connector.name, change=change, raw_payload=body.decode()
    )


async def receive_change(
    session: AsyncSession,
    *,
    connector_name: str,
    change: CrmStatusChange,
    raw_payload: str,
) -> bool:
    """Store the change once under the CRM's update id and apply it, committing both;
    False when it was stored before (by a webhook or an earlier poll)."""
    return await handle_once(
        session,
        InboxMessage,
        source=f"crm:{connector_name}",
        external_id=change.update_id,
        message_type="crm.status_changed",
        payload=raw_payload,
        handler=lambda: apply_crm_change(session, change),
    )
