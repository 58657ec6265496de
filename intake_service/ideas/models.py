"""Ideas residents send."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake_service.categories.models import Category
from intake_service.db import Base


class Idea(Base):
    __tablename__ = "ideas"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    text: Mapped[str] = mapped_column(Text)
    # `app` or `city`, when the resident said.
    topic: Mapped[str | None] = mapped_column(String(10))
    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # The signed-in sender, if any; never shown to operators.
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime]

    category: Mapped[Category | None] = relationship(lazy="joined")


Index("ix_ideas_created_at_id", Idea.created_at, Idea.id)  # keyset pages, newest first
