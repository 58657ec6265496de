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
    # Faces found and blurred before it was stored; null when none were looked for
    # (blurring off, or filed before photos were blurred).
    faces_blurred: Mapped[int | None]
    # When the city's moderators hid it (a face, a number plate): then it is served to
    # operators only. Null while it is shown.
    hidden_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("report_id", "position"),)


def photo_key(photo_id: uuid.UUID, *, thumbnail: bool = False) -> str:
    """The storage key of a photo or its thumbnail: never anything the client sent."""
    return f"reports/{photo_id.hex}{'-thumb' if thumbnail else ''}.jpg"


def original_key(photo_id: uuid.UUID) -> str:
    """The storage key of a photo before its faces were blurred, where one is kept: in a
    folder of its own, which no public or CRM link reads."""
    return f"originals/{photo_id.hex}.jpg"
