"""A reporter's answer about one closing of their report."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    SmallInteger,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake_service.db import Base
from shared.contracts import ReportStatus
from shared.db import StrEnumText


class Feedback(Base):
    __tablename__ = "report_feedback"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE")
    )
    # The reporter; kept for the figures when their account is erased.
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    # Which closing it answers (`Report.closed_sequence` then): one answer per closing.
    closing_sequence: Mapped[int] = mapped_column(BigInteger)
    closed_status: Mapped[ReportStatus] = mapped_column(StrEnumText(ReportStatus, 20))
    # The unit and category as they were at the closing, for the per-unit figures.
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    fixed: Mapped[bool]
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    # This answer reopened the report (not fixed, on a resolved report).
    reopened: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    __table_args__ = (
        UniqueConstraint("report_id", "closing_sequence"),
        # The operators' figures for a period.
        Index("ix_report_feedback_created_at", "created_at"),
    )
