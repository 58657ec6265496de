"""Transactional outbox: events written with the change that caused them, in the same
transaction, for a relay (`shared.relay`) to send.

A row moves `pending` → `in_flight` (claimed under a lease) → `sent`, or back to `pending` with
a later `next_attempt_at` after a failed attempt, or to `dead` once the retry budget is spent.
Events of one aggregate (a report) go out strictly in the order they were written.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.contracts import Envelope
from shared.db import UtcDateTime, utcnow
from shared.tracing import TracedMixin, current_traceparent
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)

RELAY = "outbox"
"""Name of the relay loop's wake-up (see `shared.wakeup`)."""

PENDING, IN_FLIGHT, SENT, DEAD = "pending", "in_flight", "sent", "dead"


class OutboxMixin(TracedMixin):
    """Columns of a service's `outbox_events` table; `traceparent` is the request's (or the
    loop's) that wrote the event, for the relay to send it on in that trace."""

    # Orders events within one aggregate; rows of different aggregates may commit out of order.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    aggregate_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


def add_event(
    session: AsyncSession,
    model: type[OutboxMixin],
    envelope: Envelope,
    *,
    aggregate_id: uuid.UUID,
) -> None:
    """Queue `envelope` in the caller's transaction; the relay is woken when it commits."""
    row = model()
    for name, value in event_row(envelope, aggregate_id=aggregate_id).items():
        setattr(row, name, value)
    session.add(row)
    wake_after_commit(session, RELAY)


def event_row(envelope: Envelope, *, aggregate_id: uuid.UUID) -> dict[str, Any]:
    """The outbox row of `envelope`, for a caller that writes it with a Core INSERT (and
    calls `wake_after_commit(session, RELAY)`)."""
    now = utcnow()
    return {
        "id": envelope.id,
        "aggregate_id": aggregate_id,
        "event_type": envelope.event.type,
        "payload": envelope.model_dump_json(),
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "traceparent": current_traceparent(),
    }
