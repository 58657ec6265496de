"""Signing in, rotating refresh tokens, signing out, and checking access tokens.

Both tokens are opaque random strings of which only the SHA-256 is stored. A sign-in starts
a token family; each refresh replaces the family's refresh token and adds an access token.
A refresh token of the family that is not its current one was used before: either the
resident's app retried, or someone else holds a copy. The family ends then, for the thief
and the resident alike (OAuth 2.0 Security BCP, refresh token rotation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts import limits, repository
from intake_service.accounts.exceptions import InvalidCredentials, InvalidRefreshToken
from intake_service.accounts.models import AccessToken, Account, TokenFamily
from intake_service.accounts.passwords import verify_password
from intake_service.accounts.schemas import TokenRequest
from intake_service.config import Settings
from intake_service.throttling import service as throttle
from intake_service.wakeups import NOTIFICATIONS
from shared.db import utcnow
from shared.errors import NotAuthenticated
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token(family_id: uuid.UUID) -> str:
    return f"{family_id.hex}.{secrets.token_urlsafe(32)}"


def _family_of(refresh_token: str) -> uuid.UUID | None:
    family, dot, _ = refresh_token.partition(".")
    try:
        return uuid.UUID(hex=family) if dot and len(family) == 32 else None
    except ValueError:
        return None


def _add_access_token(
    session: AsyncSession, family_id: uuid.UUID, now: dt.datetime, settings: Settings
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            token_hash=_sha256(token),
            family_id=family_id,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.access_token_ttl_seconds),
        )
    )
    return token


def _pair(access_token: str, refresh_token: str, settings: Settings) -> TokenPair:
    return TokenPair(
        access_token=access_token,
        expires_in=settings.access_token_ttl_seconds,
        refresh_token=refresh_token,
        refresh_expires_in=settings.refresh_token_ttl_seconds,
    )


async def sign_in(
    session: AsyncSession, *, data: TokenRequest, client: str, settings: Settings
) -> TokenPair:
    """Check the password (failures counted per address and per client) and start a family.

    The attempt is counted before the password is checked, so guesses sent side by side
    cannot all slip under the limit; a sign-in that succeeds is taken back off the counts.
    """
    account_limit = limits.signin_of_account(settings, data.email)
    client_limit = limits.signin_of_client(settings, client)
    await throttle.hit(session, account_limit, client_limit)
    account = await repository.credentials(session, data.email)
    # End the read before verifying, so no lock is held through Argon2.
    await session.rollback()
    valid, new_hash = await verify_password(
        data.password, account.password_hash if account else None, settings
    )
    if not valid or account is None:
        raise InvalidCredentials()
    now = utcnow()
    await throttle.clear(session, account_limit)
    await throttle.forgive(session, client_limit)
    stored = await repository.by_id(session, account.id)
    if stored is not None:
        stored.last_active_at = now
        if new_hash is not None:
            stored.password_hash = new_hash
    # Families that expired are of no use to anyone: they go at the next sign-in.
    await repository.delete_families(session, account.id, only_dead_at=now)
    family_id = uuid.uuid4()
    refresh_token = _new_refresh_token(family_id)
    family = TokenFamily(
        id=family_id,
        account_id=account.id,
        refresh_hash=_sha256(refresh_token),
        refresh_expires_at=now
        + dt.timedelta(seconds=settings.refresh_token_ttl_seconds),
        created_at=now,
    )
    session.add(family)
    await session.flush()
    access_token = _add_access_token(session, family.id, now, settings)
    await session.commit()
    logger.info(
        "auth.signed_in",
        extra={"account_id": str(account.id), "family_id": str(family.id)},
    )
    return _pair(access_token, refresh_token, settings)


async def refresh(
    session: AsyncSession, *, refresh_token: str, settings: Settings
) -> TokenPair:
    """A new pair for the family's current refresh token; any other token ends the family."""
    family_id = _family_of(refresh_token)
    family = (
        await repository.family_for_update(session, family_id) if family_id else None
    )
    if family is None:
        raise InvalidRefreshToken()
    now = utcnow()
    if not hmac.compare_digest(family.refresh_hash, _sha256(refresh_token)):
        await repository.delete_family(session, family.id)
        await session.commit()
        logger.warning(
            "auth.refresh_token_reused",
            extra={"account_id": str(family.account_id), "family_id": str(family.id)},
        )
        raise InvalidRefreshToken()
    if family.refresh_expires_at <= now:
        await repository.delete_family(session, family.id)
        await session.commit()
        raise InvalidRefreshToken()
    await repository.mark_active(session, family.account_id, now)
    new_refresh_token = _new_refresh_token(family.id)
    family.refresh_hash = _sha256(new_refresh_token)
    family.refresh_expires_at = now + dt.timedelta(
        seconds=settings.refresh_token_ttl_seconds
    )
    family.refreshed_at = now
    await repository.delete_expired_access_tokens(session, family.id, now)
    access_token = _add_access_token(session, family.id, now, settings)
    await session.commit()
    return _pair(access_token, new_refresh_token, settings)


async def sign_out(session: AsyncSession, *, access_token: str) -> None:
    """End the access token's family: its refresh token and every access token of it."""
    found = await repository.account_of_access_token(
        session, _sha256(access_token), utcnow()
    )
    if found is None:
        raise NotAuthenticated()
    account, family_id = found
    await repository.delete_family(session, family_id)
    # Open notification streams re-check their tokens now, and this one's ends.
    wake_after_commit(session, NOTIFICATIONS)
    await session.commit()
    logger.info(
        "auth.signed_out",
        extra={"account_id": str(account.id), "family_id": str(family_id)},
    )


async def authenticate_token(session: AsyncSession, token: str) -> Account | None:
    found = await repository.account_of_access_token(session, _sha256(token), utcnow())
    return found[0] if found else None
