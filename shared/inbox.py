"""Inbox: every received message is stored once under (source, external id)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Mapping

from opentelemetry.trace import SpanKind
from sqlalchemy import Integer, String, Text, UniqueConstraint, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.schema import SchemaItem

from shared import tracing
from shared.contracts import Event
from shared.db import UtcDateTime, upsert_insert, utcnow
from shared.webhooks import parse_envelope

ID_LENGTH = 200
"""The length of an inbox's columns of senders' ids."""


def fitting_id(value: str, limit: int = ID_LENGTH) -> str:
    """A sender's id as it is stored: itself, or when longer than `limit` characters
    "sha256:" and the hex SHA-256 of it.

    An id the sender chose (a webhook's `webhook-id`, which Standard Webhooks does not
    bound) is only ever compared, never read: its digest recognises it as well, and ids that
    share a long beginning stay apart. Ids that fit are kept as they are, so that the rows
    stored before stay comparable and an operator can read them.
    """
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


class InboxMixin:
    """Columns of a service's `inbox_messages` table."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    message_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    handled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[SchemaItem, ...]:
        return (UniqueConstraint("source", "external_id"),)


async def record_once(
    session: AsyncSession,
    model: type[InboxMixin],
    *,
    source: str,
    external_id: str,
    message_type: str,
    payload: str,
    columns: Mapping[str, object] | None = None,
) -> int | None:
    """Insert the message unless it is already there; returns the new row's id, or None.

    `columns` fills the service's own columns; one that is unique (e.g. a delivery id)
    makes a message seen under either key a duplicate.
    """
    statement = (
        upsert_insert(session, model)
        .values(
            source=source,
            external_id=external_id,
            message_type=message_type,
            payload=payload,
            received_at=utcnow(),
            **(columns or {}),
        )
        .on_conflict_do_nothing()
        .returning(model.id)
    )
    result = await session.execute(statement)
    return result.scalar_one_or_none()


Handler = Callable[[], Awaitable[str | None]]
"""Acts on a message in the caller's transaction; returns why it could not, or None.

A handler that cannot act changes nothing but diagnostics, so that the stored message can be
handled again later: operators list such messages and replay them (`shared.inbox_api`)."""


async def handle_once(
    session: AsyncSession,
    model: type[InboxMixin],
    *,
    source: str,
    external_id: str,
    message_type: str,
    payload: str,
    handler: Handler,
    columns: Mapping[str, object] | None = None,
) -> bool:
    """Store the message and run `handler`, committing both together; False for a duplicate.

    A message that cannot be handled is kept with its `last_error` for an operator. It is
    handled in a span of the current trace: the sender's, which the request continued.
    """
    attributes = {"mam.message_type": message_type, "mam.source": source}
    with tracing.span("inbox.handle", kind=SpanKind.CONSUMER, attributes=attributes):
        inbox_id = await record_once(
            session,
            model,
            source=source,
            external_id=external_id,
            message_type=message_type,
            payload=payload,
            columns=columns,
        )
        if inbox_id is None:
            await session.rollback()
            return False
        error = await handler()
        await session.execute(
            update(model)
            .where(model.id == inbox_id)
            .values(handled_at=utcnow() if error is None else None, last_error=error)
        )
        await session.commit()
        return True


async def receive_envelope(
    session: AsyncSession,
    model: type[InboxMixin],
    *,
    body: bytes,
    handler: Callable[[Event], Awaitable[str | None]],
) -> bool:
    """Store a signed event envelope once under its id and handle its event in the same
    transaction; False when it was here already."""
    envelope = parse_envelope(body)
    return await handle_once(
        session,
        model,
        source=envelope.source,
        external_id=str(envelope.id),
        message_type=envelope.event.type,
        payload=body.decode(),
        handler=lambda: handler(envelope.event),
    )


async def handle_again(
    session: AsyncSession,
    message: InboxMixin,
    handler: Callable[[InboxMixin], Awaitable[str | None]],
) -> None:
    """Act on a stored message not handled yet (the caller holds its row locked), in the
    caller's transaction: it is marked handled, or keeps the new reason it could not be."""
    error = await handler(message)
    message.handled_at = utcnow() if error is None else None
    message.last_error = error
