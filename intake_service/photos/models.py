"""A report's photos: where the re-encoded files are and what they look like."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from intake_service.db import Base


class Photo(Base):
    """One stored photo of a report, with its thumbnail; both JPEG without metadata."""

    __tablename__ = "report_photos"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # Indexed by the unique constraint, which starts with it.
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE")
    )
    # Order the resident gave them in (0 first).
    position: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int]
    height: Mapped[int]
    thumb_width: Mapped[int]
    thumb_height: Mapped[int]
    size_bytes: Mapped[int]
    # Of the stored (re-encoded) image: its ETag.
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("report_id", "position"),)


def photo_key(photo_id: uuid.UUID, *, thumbnail: bool = False) -> str:
    """The storage key of a photo or its thumbnail: never anything the client sent."""
    return f"reports/{photo_id.hex}{'-thumb' if thumbnail else ''}.jpg"
