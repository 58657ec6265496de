"""The status mapping table and the held changes."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from crm_adapter.db import Base


class StatusMapping(Base):
    """One CRM code of one connector, and the canonical status it means."""

    __tablename__ = "status_mappings"

    connector: Mapped[str] = mapped_column(String(50), primary_key=True)
    crm_code: Mapped[str] = mapped_column(String(50), primary_key=True)
    # None: an operator removed the mapping. The row stays, so that seeding the connector's
    # default file does not bring it back; changes with this code are held again.
    status: Mapped[str | None] = mapped_column(String(20))
    # The operator key's name; None for an entry seeded from the connector's default file.
    changed_by: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime]


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
