"""Reports, their status history and the per-year report number counter."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake_service.accounts.models import Account
from intake_service.categories.models import Category, Unit
from intake_service.db import Base
from intake_service.photos.models import Photo
from shared.contracts import ReportStatus
from shared.db import StrEnumText


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    lat: Mapped[float]
    lon: Mapped[float]
    description: Mapped[str] = mapped_column(Text)
    # When the city's moderators hid the description from the public (its reporter and
    # operators still read it); null while it is shown.
    description_hidden_at: Mapped[dt.datetime | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    # Null for an anonymous report; never shown in public views.
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ReportStatus] = mapped_column(
        StrEnumText(ReportStatus, 20), index=True
    )
    # The sequence of the last status change applied (0: none yet); older changes are ignored.
    status_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    # The sequence of the change that closed the report (resolved or rejected), null while it
    # is open: the closing its reporter is asked about, and answers once.
    closed_sequence: Mapped[int | None] = mapped_column(BigInteger)
    # The reporter reopened the report and the adapter has not answered yet: changes it sent
    # before it knew are set aside (see `intake_service.status.service`).
    pending_reopen_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The reporter's latest answer to "was it really fixed?", until the report is closed
    # again (public, unlike the rest of the answer; kept here so lists need no join).
    feedback_fixed: Mapped[bool | None]
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    crm_case_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    expected_resolution_at: Mapped[dt.datetime]
    # Residents who said "me too" instead of filing again (kept here so lists need no count).
    supporters_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # How it was filed: `app` (the residents' API) or `open311` (an Open311 client).
    channel: Mapped[str] = mapped_column(
        String(10), default="app", server_default="app"
    )
    # Where `lat`/`lon` came from: the resident's device, or the first photo's GPS EXIF.
    location_source: Mapped[str] = mapped_column(
        String(10), default="device", server_default="device"
    )
    # A named resident's choice to show their display name on the public report.
    show_name: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The reporter agreed to pass their name and e-mail to the city unit's CRM.
    share_contact: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The newest word of the adapter on the report's way into the CRM being held up
    # (`report.delivery_delayed.v1`): since when (null: it is not), whether it stopped, and
    # when the adapter saw it so, which orders its words (`intake_service.status.delays`).
    delivery_delayed_since: Mapped[dt.datetime | None]
    delivery_dead: Mapped[bool] = mapped_column(default=False, server_default=false())
    delivery_delay_as_of: Mapped[dt.datetime | None]

    category: Mapped[Category] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    reporter: Mapped[Account | None] = relationship(lazy="joined")
    photos: Mapped[list[Photo]] = relationship(
        order_by="Photo.position", lazy="selectin", cascade="all, delete-orphan"
    )
    # In the order the changes arrived; `timeline` places those that came late.
    history: Mapped[list[ReportStatusChange]] = relationship(
        order_by="ReportStatusChange.id", lazy="selectin", cascade="all, delete-orphan"
    )


Index(
    "ix_reports_created_at_id", Report.created_at, Report.id
)  # keyset pages, newest first
Index("ix_reports_lat_lon", Report.lat, Report.lon)  # map boxes and nearby look-ups
# By category (lists) and, within it, by latitude (nearby look-ups on SQLite).
Index("ix_reports_category_code_lat", Report.category_code, Report.lat)
# Reports by category and channel, counted from the index alone at each metrics scrape.
Index("ix_reports_category_code_channel", Report.category_code, Report.channel)
# Open reports of a category nearest first, on a plane where a degree of longitude is as
# long as one of latitude (`nearby_repository.plane_point`): the duplicates hint reads only
# the rows it shows. (The category in a GiST index takes the btree_gist extension.)
Index(
    "ix_reports_open_plane_point",
    Report.category_code,
    func.point(Report.lon * func.cos(func.radians(Report.lat)), Report.lat),
    postgresql_using="gist",
    postgresql_where=text(
        "status IN ('received', 'submitted', 'in_progress', 'reopened')"
    ),
).ddl_if(dialect="postgresql")


class ReportStatusChange(Base):
    __tablename__ = "report_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ReportStatus] = mapped_column(StrEnumText(ReportStatus, 20))
    sequence: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[dt.datetime]
    # A change the reporter made (a reopen): its note is their comment, shown only to them.
    by_reporter: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A change the CRM made before one that arrived earlier: history only, never current.
    superseded: Mapped[bool] = mapped_column(default=False, server_default=false())

    # Changes from the adapter carry its sequence (1, 2, ...); intake's own count down from 0
    # (`received` is 0, each reopen by the reporter one less), so the two never collide.
    __table_args__ = (UniqueConstraint("report_id", "sequence"),)


@dataclass(frozen=True)
class Nearby:
    """An open report close to a position, as the duplicates hint shows it (read only)."""

    id: uuid.UUID
    number: str
    status: ReportStatus
    created_at: dt.datetime
    description: str
    distance_m: float
    description_hidden: bool = False


@dataclass(frozen=True)
class ListedPhoto:
    id: uuid.UUID
    width: int
    height: int
    # Lists read only the photos that are shown.
    hidden_at: None = None


@dataclass(frozen=True)
class ListedReporter:
    display_name: str
    email_verified_at: dt.datetime | None


@dataclass(frozen=True)
class Listed:
    """A report as public lists show it, read by columns (no ORM object), with its
    category and unit from the process's copy: what `ReportSummary` reads of a report."""

    id: uuid.UUID
    number: str
    category: Category
    unit: Unit | None
    lat: float
    lon: float
    location_source: str
    description: str
    attributes: dict[str, Any]
    status: ReportStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    expected_resolution_at: dt.datetime
    supporters_count: int
    feedback_fixed: bool | None
    show_name: bool
    reporter: ListedReporter | None
    photos: list[ListedPhoto]
    description_hidden_at: dt.datetime | None = None


class ReportCounter(Base):
    """Last report number handed out per year (`WRO-2026-000042`)."""

    __tablename__ = "report_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class ReportSupporter(Base):
    """One "me too": once per account, or once per device for residents not signed in."""

    __tablename__ = "report_supporters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]

    __table_args__ = (
        UniqueConstraint("report_id", "account_id"),
        UniqueConstraint("report_id", "device_id"),
    )


def timeline(history: list[ReportStatusChange]) -> list[ReportStatusChange]:
    """The changes as a resident reads them: in the order they arrived, with each change
    that came late (`superseded`) before the first that arrived earlier but was made after
    it. Only late ones move: a CRM's clock may count in whole seconds, ours does not."""
    placed = [change for change in history if not change.superseded]
    for late in (change for change in history if change.superseded):
        after = next(
            (
                index
                for index, change in enumerate(placed)
                if index > 0 and change.changed_at > late.changed_at
            ),
            len(placed),
        )
        placed.insert(after, late)
    return placed
