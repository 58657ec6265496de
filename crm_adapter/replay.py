"""Acting again on a stored message an operator replays (`shared.inbox_api`): intake's events
and the CRMs' changes, each as when it arrived."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.db import InboxMessage
from crm_adapter.intake_events.service import handle_event
from crm_adapter.operators.dependencies import require_manage, require_read
from crm_adapter.operators.models import OPERATORS
from crm_adapter.statuses.apply import apply_crm_change
from crm_adapter.statuses.receive import stored_change
from shared.inbox import InboxMixin
from shared.inbox_api import inbox_router
from shared.sla import Calendar
from shared.webhooks import parse_envelope

CRM = "crm:"


def inbox_routes(calendar: Calendar) -> APIRouter:
    """The operators' inbox routes; a replayed report opens its case in the city's
    `calendar`, as when it arrived."""

    async def replay(session: AsyncSession, message: InboxMixin) -> str | None:
        """Act on the message again; why it could not, or None."""
        if not message.source.startswith(CRM):
            event = parse_envelope(message.payload.encode()).event
            return await handle_event(session, event, calendar=calendar)
        change = stored_change(message.payload)
        if change is None:
            return (
                "kept in the CRM's own format, which only its webhook or poller reads"
            )
        return await apply_crm_change(session, change, message.source.removeprefix(CRM))

    return inbox_router(
        prefix="/admin",
        model=InboxMessage,
        store=OPERATORS,
        read=require_read,
        manage=require_manage,
        replay=replay,
        tags=["admin"],
    )
