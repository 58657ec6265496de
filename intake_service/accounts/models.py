"""Accounts and their access tokens (only the tokens' hashes are stored)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Uuid, true
from sqlalchemy.orm import Mapped, mapped_column

from intake_service.db import Base


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    lang: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[dt.datetime]
    # Set once the resident proved they read the address; only then is e-mail sent to it.
    email_verified_at: Mapped[dt.datetime | None]
    # Channels besides the in-app feed, which is always on.
    notify_push: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_email: Mapped[bool] = mapped_column(default=True, server_default=true())


class AccessToken(Base):
    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
