"""The CRM status changes held for want of a mapping."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from crm_adapter.db import Base


class HeldChange(Base):
    """A CRM status change whose code had no mapping: kept as it came, until an operator maps
    the code and it is applied (or found older than what the case has by then)."""

    __tablename__ = "held_status_changes"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    connector: Mapped[str] = mapped_column(String(50))
    crm_code: Mapped[str] = mapped_column(String(50))
    update_id: Mapped[str] = mapped_column(String(200))
    crm_case_id: Mapped[str] = mapped_column(String(100))
    external_ref: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(BigInteger)
    changed_at: Mapped[dt.datetime]
    held_at: Mapped[dt.datetime]
    # When an operator's mapping released it; None while it is held.
    reapplied_at: Mapped[dt.datetime | None] = mapped_column(index=True)
