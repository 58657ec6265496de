"""Storing a CRM status change once and applying it in the same transaction.

Webhooks (`receive_webhook`) and the pollers hand their changes to `receive_change`, the one
place where a change is stored (deduplicated) and applied.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.crm.connector import CrmConnector, CrmStatusChange, too_long
from crm_adapter.db import InboxMessage
from crm_adapter.statuses.apply import apply_crm_change
from shared.errors import AppError
from shared.i18n import N_
from shared.inbox import fitting_id, handle_once

MESSAGE_TYPE = "crm.status_changed"


class InvalidWebhook(AppError):
    status_code = 422
    code = "invalid-webhook"
    title = N_("Invalid webhook")
    detail = N_("The body is not a status change in this CRM's format: {reason}")


def parse_change(connector: CrmConnector, body: bytes) -> CrmStatusChange:
    """The status change in a webhook's body, or InvalidWebhook (422), also for a field
    longer than the column it is stored in (whatever the connector's format allows)."""
    try:
        change = connector.parse_webhook(body)
    except ValueError as exc:
        raise InvalidWebhook(reason=str(exc)[:500]) from exc
    if (reason := too_long(change)) is not None:
        raise InvalidWebhook(reason=reason)
    return change


def source_of(connector_name: str) -> str:
    """The inbox's `source` of a connector's changes."""
    return f"crm:{connector_name}"


async def receive_webhook(
    session: AsyncSession,
    *,
    connector: CrmConnector,
    change: CrmStatusChange,
    delivery_id: str | None,
    payload: str | None = None,
) -> bool:
    """A webhook's change: see `receive_change`."""
    return await receive_change(
        session,
        connector_name=connector.name,
        change=change,
        delivery_id=delivery_id,
        payload=payload,
    )


async def receive_change(
    session: AsyncSession,
    *,
    connector_name: str,
    change: CrmStatusChange,
    delivery_id: str | None = None,
    payload: str | None = None,
) -> bool:
    """Store the change once and apply it, committing both; False when it was here already.

    A change is the same as one stored before when either its CRM update id or its
    `delivery_id` (the webhook's `webhook-id`, of any length; None for a change found by
    polling) was seen under this connector: it is acknowledged all the same, and changes
    nothing. `payload` is what the CRM sent (the webhook's body), kept for diagnosis; by
    default the change itself. The change's fields fit their columns (`too_long`).
    """
    return await handle_once(
        session,
        InboxMessage,
        source=source_of(connector_name),
        external_id=change.update_id,
        message_type=MESSAGE_TYPE,
        payload=payload if payload is not None else _as_json(change),
        handler=lambda: apply_crm_change(session, change, connector_name),
        columns={
            "delivery_id": None if delivery_id is None else fitting_id(delivery_id)
        },
    )


def _as_json(change: CrmStatusChange) -> str:
    return json.dumps(
        {
            "update_id": change.update_id,
            "case_id": change.case_id,
            "external_ref": change.external_ref,
            "status": change.status,
            "note": change.note,
            "version": change.version,
            "changed_at": change.changed_at.isoformat(),
        }
    )


def stored_change(payload: str) -> CrmStatusChange | None:
    """The change a stored payload holds, when it is in the common JSON form (`_as_json`,
    which the REST JSON connector's webhooks share); None when it is in a CRM's own."""
    try:
        data = json.loads(payload)
        change = CrmStatusChange(
            update_id=data["update_id"],
            case_id=data["case_id"],
            external_ref=data.get("external_ref"),
            status=data["status"],
            note=data.get("note"),
            version=data.get("version"),
            changed_at=dt.datetime.fromisoformat(data["changed_at"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    return change if too_long(change) is None else None
