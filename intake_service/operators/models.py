"""Operator keys made with the command line, and the audit log of operators' changes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from intake_service.db import Base


class OperatorKey(Base):
    """A key's name, role and SHA-256; the key itself was shown once and never stored."""

    __tablename__ = "operator_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Never reused, not even after a revocation, so the audit log names one key.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class OperatorAction(Base):
    """One change an operator made, written in the same transaction as the change."""

    __tablename__ = "operator_actions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # The key's name (`cli` for the command line): who did it.
    operator_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    # What changed, in a few non-personal words (field names, a new status).
    details: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    request_id: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[dt.datetime]


# The log is read newest first in keyset pages.
Index(
    "ix_operator_actions_occurred_at_id", OperatorAction.occurred_at, OperatorAction.id
)
