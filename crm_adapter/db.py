"""The adapter's declarative base and its outbox and inbox tables."""

from __future__ import annotations

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import new_registry
from shared.inbox import ID_LENGTH, InboxMixin
from shared.outbox import OutboxMixin


class Base(DeclarativeBase):
    registry = new_registry()


class OutboxEvent(OutboxMixin, Base):
    __tablename__ = "outbox_events"


class InboxMessage(InboxMixin, Base):
    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        UniqueConstraint("source", "delivery_id"),
        # /metrics counts the few unhandled rows at every scrape, among 30 days of handled.
        Index(
            "ix_inbox_messages_unhandled",
            "source",
            sqlite_where=text("handled_at IS NULL"),
            postgresql_where=text("handled_at IS NULL"),
        ),
    )

    # The sender's id of the delivery (a webhook's `webhook-id`), where it has one apart from
    # the message's own id: a second delivery under either id is the same message. Stored as
    # `fitting_id`: the sender may choose a longer one.
    delivery_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
