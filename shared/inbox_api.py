"""Messages a service stored but could not act on, over HTTP: `GET {prefix}/inbox` lists
them, `POST {prefix}/inbox/{id}/replay` acts on one again once what stopped it is mended.

The same in every service; each gives its inbox model and how to act on a stored message.
Payloads are not shown: a hand-over may carry a reporter's contact.
"""

# No `from __future__ import annotations`: the routes' annotations use local names.

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.deps import SessionDep
from shared.errors import AppError, ValidationFailed, problem_responses
from shared.i18n import N_
from shared.inbox import InboxMixin, handle_again
from shared.operator_store import OperatorStore, commit
from shared.operators import Operator, OperatorNotAuthenticated, OperatorRoleMissing
from shared.routes import Router

MAX_ID = 2**31 - 1
"""The largest id the messages' integer column holds: a larger one is refused (422) before
the database is asked, which would fail on it."""

Replayer = Callable[[AsyncSession, InboxMixin], Awaitable[str | None]]
"""Acts on a stored message in the caller's transaction; returns why it could not, or None."""


class InboxMessageNotFound(AppError):
    status_code = 404
    code = "inbox-message-not-found"
    title = N_("No such message")
    detail = N_("No message with this id was received.")


class InboxMessageHandled(AppError):
    status_code = 409
    code = "inbox-message-handled"
    title = N_("Message already handled")
    detail = N_("This message was acted on already; there is nothing to replay.")


class InboxMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str = Field(
        description="Who sent it: `intake`, `adapter`, or `crm:<connector>`.",
        examples=["crm:rest_json"],
    )
    external_id: str = Field(
        description="The sender's id of the message (an event's id, a CRM's update id).",
        examples=["3f0c9a4e-7b1d-4c2a-9e55-8d1f0b6a2c7e"],
    )
    message_type: str = Field(examples=["crm.status_changed"])
    received_at: dt.datetime
    handled_at: dt.datetime | None = Field(
        description="When it was acted on; null while it waits for an operator."
    )
    last_error: str | None = Field(
        description="Why it could not be acted on, the last time it was tried.",
        examples=["the CRM's case CRM-000001 is report WRO-2026-000476 here, but …"],
    )


class Replay(BaseModel):
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why it is replayed, for the audit log.",
    )


async def unhandled(
    session: AsyncSession, model: type[InboxMixin], limit: int
) -> Sequence[InboxMixin]:
    """The messages not acted on, oldest first."""
    return (
        await session.scalars(
            select(model)
            .where(model.handled_at.is_(None))
            .order_by(model.id)
            .limit(limit)
        )
    ).all()


async def replay_once(
    session: AsyncSession,
    operator: Operator,
    model: type[InboxMixin],
    message_id: int,
    *,
    store: OperatorStore,
    replay: Replayer,
    reason: str | None,
) -> InboxMixin:
    """Act on the stored message again and record it in the audit log (committed); 404 for
    an unknown message, 409 for one handled already."""
    message = await session.get(model, message_id, with_for_update=True)
    if message is None:
        raise InboxMessageNotFound()
    if message.handled_at is not None:
        raise InboxMessageHandled()
    await handle_again(session, message, lambda found: replay(session, found))
    row = store.record(
        session,
        operator,
        action="inbox.replay",
        target_type="inbox_message",
        target_id=message.id,
        details={
            "reason": reason,
            "handled": message.handled_at is not None,
            "error": message.last_error,
        },
    )
    await commit(session, row)
    return message


MessageId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The message's `id`, as the list gives it.")
]
ReplayBody = Annotated[
    Replay | None, Body(examples=[{"reason": "case restored (OPS-1234)"}])
]
_LIST = (
    "Messages this service stored but could not act on, oldest first, "
    "with the reason: a CRM's change naming a report that is not its case's, an event "
    "about a report this service does not have, a kind of message it does not take. "
    "They stay until an operator mends the cause and replays them (`POST "
    "…/inbox/{id}/replay`). Needs the `read` role."
)
_REPLAY = (
    "Acts on the stored message as when it arrived: it is then handled, "
    "or keeps the new reason it could not be (`last_error`). Needs the `manage` role; "
    "recorded in the audit log with the reason given. 409 when it was handled already."
)


def inbox_router(
    *,
    prefix: str,
    model: type[InboxMixin],
    store: OperatorStore,
    read: Any,
    manage: Any,
    replay: Replayer,
    tags: list[str],
) -> APIRouter:
    """The router; `read` and `manage` are the service's dependencies checking the roles."""
    router = Router(prefix=prefix, tags=list(tags))
    roles = (OperatorNotAuthenticated, OperatorRoleMissing)

    @router.get(
        "/inbox",
        summary="Messages received but not acted on",
        description=_LIST,
        responses=problem_responses(*roles, ValidationFailed),
    )
    async def list_unhandled_messages(
        session: SessionDep,
        operator: Annotated[Operator, Depends(read)],
        limit: Annotated[int, Query(ge=1, le=500, description="How many.")] = 100,
    ) -> list[InboxMessageRead]:
        rows = await unhandled(session, model, limit)
        return [InboxMessageRead.model_validate(row) for row in rows]

    @router.post(
        "/inbox/{message_id}/replay",
        summary="Act on a message again",
        description=_REPLAY,
        responses=problem_responses(
            *roles, ValidationFailed, InboxMessageNotFound, InboxMessageHandled
        ),
    )
    async def replay_message(
        session: SessionDep,
        operator: Annotated[Operator, Depends(manage)],
        message_id: MessageId,
        body: ReplayBody = None,
    ) -> InboxMessageRead:
        message = await replay_once(
            session,
            operator,
            model,
            message_id,
            store=store,
            replay=replay,
            reason=body.reason if body else None,
        )
        return InboxMessageRead.model_validate(message)

    return router
