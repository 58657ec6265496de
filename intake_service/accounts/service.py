"""Registering, signing in and checking access tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.exceptions import EmailTaken, InvalidCredentials
from intake_service.accounts.models import AccessToken, Account
from intake_service.accounts.passwords import hash_password, verify_password
from intake_service.accounts.schemas import AccountCreate, TokenRequest
from shared.db import utcnow


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normalise_email(email: str) -> str:
    return email.strip().lower()


async def register(session: AsyncSession, *, data: AccountCreate) -> Account:
    # Hash before touching the database: a transaction must not hold the (SQLite) write
    # lock through a quarter second of Argon2.
    password_hash = await hash_password(data.password)
    email = _normalise_email(data.email)
    if (
        await session.scalar(select(Account.id).where(Account.email == email))
        is not None
    ):
        raise EmailTaken()
    account = Account(
        email=email,
        password_hash=password_hash,
        display_name=data.display_name,
        lang=data.lang,
        created_at=utcnow(),
    )
    session.add(account)
    try:
        await session.commit()
    except IntegrityError as exc:  # the same address registered concurrently
        await session.rollback()
        raise EmailTaken() from exc
    return account


async def issue_token(
    session: AsyncSession, *, data: TokenRequest, ttl: dt.timedelta
) -> str:
    """Check the password and hand out a new opaque access token (only its hash is kept)."""
    query = select(Account.id, Account.password_hash).where(
        Account.email == _normalise_email(data.email)
    )
    account = (await session.execute(query)).first()
    # End the read before verifying, so no lock is held through Argon2.
    await session.rollback()
    if not await verify_password(
        data.password, account.password_hash if account else None
    ):
        raise InvalidCredentials()
    assert account is not None
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AccessToken(
            token_hash=_token_hash(token),
            account_id=account.id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.commit()
    return token


async def authenticate_token(session: AsyncSession, token: str) -> Account | None:
    row = await session.get(AccessToken, _token_hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return await session.get(Account, row.account_id)
