"""What operators did to a report's content, and the residents' open abuse flags.

Whether a description or a photo is hidden now is kept on the report and the photo
themselves (`Report.description_hidden_at`, `Photo.hidden_at`), where every public view
reads it without a join; the history here says who changed it, when and why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from intake_service.db import Base
from shared.db import StrEnumText


class ReasonCode(StrEnum):
    """Why content is hidden, or flagged; residents are told the code's name, never the
    operator's own words."""

    PERSONAL_DATA = "personal_data"
    """A name, a phone number, an address of a private person."""
    OFFENSIVE = "offensive"
    """Insults, hate, obscenity."""
    FACE_OR_PLATE = "face_or_plate"
    """A recognisable face or a number plate in a photo."""
    NOT_RELEVANT = "not_relevant"
    """Nothing to do with the problem reported."""
    SPAM = "spam"
    """Advertising, or the same text sent over and over."""
    OTHER = "other"


class ModerationAction(StrEnum):
    HIDE_DESCRIPTION = "description.hide"
    RESTORE_DESCRIPTION = "description.restore"
    HIDE_PHOTO = "photo.hide"
    RESTORE_PHOTO = "photo.restore"
    DISMISS_FLAGS = "flags.dismiss"
    """The open flags were looked at and nothing was hidden."""

    @property
    def hides(self) -> bool:
        return self in (ModerationAction.HIDE_DESCRIPTION, ModerationAction.HIDE_PHOTO)


class ModerationEvent(Base):
    """One change an operator made to what the public sees of a report, with its reason."""

    __tablename__ = "report_moderations"

    # Also the `sequence` of the notification telling the reporter: one per event.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[ModerationAction] = mapped_column(StrEnumText(ModerationAction, 30))
    # The photo hidden or restored; null for the description and for dismissals.
    photo_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason_code: Mapped[ReasonCode | None] = mapped_column(StrEnumText(ReasonCode, 20))
    # The operator's own words: for operators only.
    reason: Mapped[str] = mapped_column(Text)
    operator_name: Mapped[str] = mapped_column(String(100))
    # How many open abuse flags this resolved.
    flags_resolved: Mapped[int] = mapped_column(default=0, server_default="0")
    occurred_at: Mapped[dt.datetime]


class AbuseFlag(Base):
    """A resident's open "report abuse" of a report, until an operator resolves it (then the
    row goes: the event that resolved it keeps the count)."""

    __tablename__ = "abuse_flags"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE")
    )
    # A keyed hash of the account, or of the client address for a resident not signed in:
    # one open flag each per report, and nobody can read back who it was.
    flagger: Mapped[str] = mapped_column(String(64))
    reason_code: Mapped[ReasonCode] = mapped_column(StrEnumText(ReasonCode, 20))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]

    # Indexed by the constraint, which starts with the report.
    __table_args__ = (UniqueConstraint("report_id", "flagger"),)
