"""The log of every attempt to deliver something to a CRM, and each connector's breaker."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import BigInteger, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from crm_adapter.db import Base
from shared.db import StrEnumText


class DeliveryKind(enum.StrEnum):
    CREATE = "create"  # a case's creation; the delivery id is the case id
    REOPEN = "reopen"  # an action; the delivery id is the action id
    COMMENT = "comment"
    ERASE_CONTACT = "erase_contact"


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"  # the CRM took it
    SKIPPED_BY_LOOKUP = "skipped_by_lookup"  # the CRM had the case already: not created
    RETRY = "retry"  # failed, to be tried again later
    DEAD = "dead"  # refused, or the retry budget ran out: held for an operator


class DeliveryAttempt(Base):
    """One attempt to create a case in a CRM, or to pass an action on to it."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    delivery_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[DeliveryKind] = mapped_column(StrEnumText(DeliveryKind, 20))
    connector: Mapped[str] = mapped_column(String(50))
    attempt: Mapped[int]
    started_at: Mapped[dt.datetime]
    duration_ms: Mapped[int]
    outcome: Mapped[Outcome] = mapped_column(StrEnumText(Outcome, 20))
    http_status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)


class ConnectorBreaker(Base):
    """A connector's circuit breaker, shared by every process (RELIABILITY §4.3).

    Closed while `open_until` is null; open until then; half-open after it, when the first
    claimer takes one delivery as the probe and moves `open_until` one lease ahead (so nobody
    else probes meanwhile, and a probe that dies with its process is retried after it).
    """

    __tablename__ = "connector_breakers"

    connector: Mapped[str] = mapped_column(String(50), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[dt.datetime | None]
    open_until: Mapped[dt.datetime | None]
    # The current open period: the first one from the settings, doubled after each failed
    # probe up to the settings' maximum.
    open_seconds: Mapped[float] = mapped_column(default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set while an operator holds it open (`POST /admin/connectors/{name}/trip`): until its
    # period ends no answer of an attempt still under way closes it or moves its end.
    tripped_by: Mapped[str | None] = mapped_column(String(100))
    trip_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime]
