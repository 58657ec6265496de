"""What the Open311 server keeps of its own: the clients' keys, the photos their requests
link to (fetched in the background) and the updates they post."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from intake_service.db import Base
from intake_service.operators.models import OperatorAction
from shared.db import StrEnumText
from shared.operator_store import OperatorKeyMixin, OperatorStore
from shared.operators import OPEN311_KEY_PREFIX


class Open311Key(OperatorKeyMixin, Base):
    """An Open311 client's key (`api_key`); its role is unused: a client may file requests."""

    __tablename__ = "open311_keys"


OPEN311_KEYS = OperatorStore(
    Open311Key, OperatorAction, kind="open311_key", key_prefix=OPEN311_KEY_PREFIX
)
"""Open311 client keys; making and revoking one is recorded in the operators' audit log."""


class MediaState(enum.StrEnum):
    """`pending` (waiting for its next attempt), `in_flight` (claimed under a lease),
    `fetched` (the report has the photo) or `failed` (never will: the link stays)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    FETCHED = "fetched"
    FAILED = "failed"


class Open311Media(Base):
    """A `media_url` of a filed request: the photo is fetched from it in the background and
    attached to the report. The link stays for operators whatever became of it."""

    __tablename__ = "open311_media"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    # The client's order of its links (0 first).
    position: Mapped[int]
    url: Mapped[str] = mapped_column(Text)
    state: Mapped[MediaState] = mapped_column(
        StrEnumText(MediaState, 16), default=MediaState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Why the last attempt failed: a key of `media.REASONS`, and the detail (`HTTP 404`).
    failure: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    photo_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("report_photos.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]

    __table_args__ = (
        UniqueConstraint("report_id", "position"),
        # What the fetch loop looks for: due rows by state and time.
        Index("ix_open311_media_state_next", "state", "next_attempt_at"),
    )


class Open311Update(Base):
    """An update an Open311 client posted (`POST servicerequestupdates`), kept to answer
    the same `update_id` again with the same id. Its text went to the CRM in the outbox
    event; the poster's contact data is not kept."""

    __tablename__ = "open311_updates"

    # The id answered to the client, and the CRM's idempotency key of the comment or reopen.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # The key's name: each client's update ids are its own.
    client: Mapped[str] = mapped_column(String(100))
    update_id: Mapped[str] = mapped_column(String(100))
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    # `comment` or `reopen`: what it did.
    action: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(40))
    # SHA-256 of what the update says, to tell a retry from another update under one id.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The client's `updated_datetime`; `created_at` is when this server took it.
    updated_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("client", "update_id"),)
