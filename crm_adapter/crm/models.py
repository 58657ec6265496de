"""What the connectors keep: the canonical status each CRM code means, each poller's
cursor, Open311's pending tokens."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from crm_adapter.db import Base
from shared.contracts import ReportStatus
from shared.db import StrEnumText


class StatusMapping(Base):
    """One CRM code of one connector, and the canonical status it means."""

    __tablename__ = "status_mappings"

    connector: Mapped[str] = mapped_column(String(50), primary_key=True)
    crm_code: Mapped[str] = mapped_column(String(50), primary_key=True)
    # None: an operator removed the mapping. The row stays, so that seeding the connector's
    # default file does not bring it back; changes with this code are held again.
    status: Mapped[ReportStatus | None] = mapped_column(StrEnumText(ReportStatus, 20))
    # The operator key's name; None for an entry seeded from the connector's default file.
    changed_by: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime]


class PollCursor(Base):
    """Where a connector's poller goes on from: its cursor is stored only after the changes
    read up to it are stored in the inbox."""

    __tablename__ = "poll_cursors"

    connector: Mapped[str] = mapped_column(String(50), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(200))
    last_run_at: Mapped[dt.datetime | None]
    last_success_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Open311Token(Base):
    """A batch Open311 service's token for a request whose id it has not given yet.

    Kept until the token resolves, so that the next attempt asks for the token again rather
    than sending the request a second time."""

    __tablename__ = "open311_tokens"

    report_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    token: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
