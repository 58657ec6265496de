"""Accounts, their sign-ins (token families), e-mail codes and push devices; tokens and codes
only as hashes."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid, true
from sqlalchemy.orm import Mapped, mapped_column

from intake_service.db import Base


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320))
    """As the resident wrote it (domain lowercased): what mails are sent to."""
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    """The address all lowercased: what uniqueness and signing in compare."""
    email_verified_at: Mapped[dt.datetime | None]
    """When the resident proved they read the address (a code from it); until then the
    account is told nothing about its reports and no mail but codes may go there."""
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    lang: Mapped[str] = mapped_column(String(2))
    notify_push: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_email: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[dt.datetime]
    # The last sign-in or token refresh: what retention measures inactivity by.
    last_active_at: Mapped[dt.datetime | None]


class TokenFamily(Base):
    """One sign-in: its current refresh token and every access token issued from it.

    Refresh tokens read `<family id hex>.<secret>`; only the current one's SHA-256 is kept.
    A token of the family that is not the current one has been used before (or stolen and
    used by someone else first), so presenting it ends the whole family.
    """

    __tablename__ = "token_families"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    refresh_hash: Mapped[str] = mapped_column(String(64))
    refresh_expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    refreshed_at: Mapped[dt.datetime | None]


class AccessToken(Base):
    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("token_families.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class CodePurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class EmailCode(Base):
    """The one pending code of an account for a purpose, as a keyed hash."""

    __tablename__ = "email_codes"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(20), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    """When its mail went out; the next code may be asked for a while after."""
    failed_attempts: Mapped[int] = mapped_column(default=0)


class Device(Base):
    """A phone or browser that receives push notifications for an account."""

    __tablename__ = "devices"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(10))
    # The push service's address of the app install (FCM registration token, APNs token).
    token: Mapped[str] = mapped_column(String(4096))
    created_at: Mapped[dt.datetime]
    registered_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("platform", "token"),)
