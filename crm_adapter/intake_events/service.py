"""Storing intake's events once and acting on them in the same transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.service import (
    add_comment,
    forget_reporter,
    open_case,
    request_reopen,
)
from crm_adapter.db import InboxMessage
from shared.contracts import (
    Event,
    ReportCommentAddedV1,
    ReporterErasedV1,
    ReportReopenRequestedV1,
    ReportSubmittedV1,
)
from shared.inbox import receive_envelope


async def receive_event(session: AsyncSession, *, body: bytes) -> bool:
    """Store the event under its id and act on it; False when it was here already."""
    return await receive_envelope(
        session,
        InboxMessage,
        body=body,
        handler=lambda event: handle_event(session, event),
    )


async def handle_event(session: AsyncSession, event: Event) -> str | None:
    """Act on one of intake's events; why it could not, or None."""
    if isinstance(event, ReportSubmittedV1):
        await open_case(session, event)
        return None
    if isinstance(event, ReportReopenRequestedV1):
        return await request_reopen(session, event)
    if isinstance(event, ReportCommentAddedV1):
        return await add_comment(session, event)
    if isinstance(event, ReporterErasedV1):
        await forget_reporter(session, event)
        return None
    return f"not handled here: {event.type}"
