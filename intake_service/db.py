"""Intake's declarative base and its outbox and inbox tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import new_registry
from shared.inbox import InboxMixin
from shared.outbox import OutboxMixin


class Base(DeclarativeBase):
    registry = new_registry()


class OutboxEvent(OutboxMixin, Base):
    __tablename__ = "outbox_events"


class InboxMessage(InboxMixin, Base):
    __tablename__ = "inbox_messages"
