"""Attempt counters: one fixed window per key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from intake_service.db import Base


class AttemptCounter(Base):
    __tablename__ = "attempt_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    """A keyed hash of what is counted (`signin-client:<ip>`): no address is stored."""
    count: Mapped[int]
    window_ends_at: Mapped[dt.datetime] = mapped_column(index=True)
    """The counter is void from then on, and deleted at the next count."""
