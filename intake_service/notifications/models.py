"""In-app notifications (the feed every other channel is sent from)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake_service.db import Base
from intake_service.reports.models import Report


class NotificationKind(StrEnum):
    STATUS_CHANGED = "status_changed"
    """The report's status changed (or the unit added a note)."""
    FEEDBACK_REQUESTED = "feedback_requested"
    """The report was closed: was it really fixed?"""


class Notification(Base):
    """One thing a resident is told; its text is written in their language when read."""

    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE")
    )
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(
        String(30),
        default=NotificationKind.STATUS_CHANGED,
        server_default="status_changed",
    )
    # The report's status sequence it tells about: one notification per change, kind and
    # account, however often the change is delivered.
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    read_at: Mapped[dt.datetime | None]

    report: Mapped[Report] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("account_id", "report_id", "sequence", "kind"),
        # The feed, newest first, and its unread count.
        Index("ix_notifications_account_id_created_at", "account_id", "created_at"),
    )
