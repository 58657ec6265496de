"""Intake's declarative base and its outbox and inbox tables."""

from __future__ import annotations

from shared.db import ServiceBase, new_metadata
from shared.inbox import InboxMixin
from shared.outbox import OutboxMixin


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class OutboxEvent(OutboxMixin, Base):
    __tablename__ = "outbox_events"


class InboxMessage(InboxMixin, Base):
    __tablename__ = "inbox_messages"
