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

from intake_service.accounts.models import Device
from intake_service.db import Base
from intake_service.reports.models import Report
from shared.contracts import ReportStatus
from shared.db import StrEnumText
from shared.tracing import TracedMixin


class NotificationKind(StrEnum):
    STATUS_CHANGED = "status_changed"
    """The report's status changed (or the unit added a note)."""
    FEEDBACK_REQUESTED = "feedback_requested"
    """The report was closed: was it really fixed?"""
    DESCRIPTION_HIDDEN = "description_hidden"
    """The city's moderators hid the report's description from the public."""
    DESCRIPTION_RESTORED = "description_restored"
    PHOTO_HIDDEN = "photo_hidden"
    """The city's moderators hid one of the report's photos."""
    PHOTO_RESTORED = "photo_restored"


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
    kind: Mapped[NotificationKind] = mapped_column(
        StrEnumText(NotificationKind, 30),
        default=NotificationKind.STATUS_CHANGED,
        server_default="status_changed",
    )
    # The report's status sequence it tells about: one notification per change, kind and
    # account, however often the change is delivered (for the moderation kinds, the id of
    # the moderation event).
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[ReportStatus] = mapped_column(StrEnumText(ReportStatus, 20))
    # The unit's note; for the moderation kinds, the reason's code (named when read).
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    read_at: Mapped[dt.datetime | None]

    report: Mapped[Report] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("account_id", "report_id", "sequence", "kind"),
        # The feed, newest first, and its unread count.
        Index("ix_notifications_account_id_created_at", "account_id", "created_at"),
    )


class Platform(StrEnum):
    ANDROID = "android"
    IOS = "ios"
    WEB = "web"


class Channel(StrEnum):
    PUSH = "push"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    DEAD = "dead"
    """Failed for good: the address is gone, or the retry budget is spent."""


class NotificationDelivery(TracedMixin, Base):
    """A notification on its way through one channel (to one device, or by e-mail).

    Written with the notification, claimed under a lease by the delivery loop, retried with
    backoff; one row per notification, channel and device, so each is sent once. Each
    attempt continues the trace of the status change that made it (`traceparent`).
    """

    __tablename__ = "notification_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(10))
    # Null for e-mail, and once the device is removed (the row stays as a record).
    device_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        StrEnumText(DeliveryStatus, 16), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]

    notification: Mapped[Notification] = relationship(lazy="raise")
    device: Mapped[Device | None] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("notification_id", "channel", "device_id"),
        # What the delivery loop looks for: due rows by status and time.
        Index("ix_notification_deliveries_status_next", "status", "next_attempt_at"),
    )
