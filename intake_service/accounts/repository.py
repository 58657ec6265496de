"""Queries on accounts, their codes and token families; never commits."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import (
    AccessToken,
    Account,
    CodePurpose,
    Device,
    EmailCode,
    TokenFamily,
)


def email_key(email: str) -> str:
    """What makes two addresses the same account: case never does."""
    return email.strip().lower()


async def by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    """The account, or None once it is erased."""
    return await session.get(Account, account_id)


async def by_email(session: AsyncSession, email: str) -> Account | None:
    return await session.scalar(
        select(Account).where(Account.email_key == email_key(email))
    )


async def credentials(session: AsyncSession, email: str) -> Row[uuid.UUID, str] | None:
    """The account's id and password hash."""
    query = select(Account.id, Account.password_hash).where(
        Account.email_key == email_key(email)
    )
    return (await session.execute(query)).first()


async def email_taken(session: AsyncSession, email: str) -> bool:
    query = select(Account.id).where(Account.email_key == email_key(email))
    return await session.scalar(query) is not None


async def code(
    session: AsyncSession,
    account_id: uuid.UUID,
    purpose: CodePurpose,
    *,
    for_update: bool = False,
) -> EmailCode | None:
    return await session.get(
        EmailCode, (account_id, str(purpose)), with_for_update=for_update
    )


async def consume_code(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    purpose: CodePurpose,
    code_hash: str,
    max_failures: int,
    now: dt.datetime,
) -> bool:
    """Delete the code if it is still the same and usable; False when it is not."""
    result = await session.execute(
        delete(EmailCode).where(
            EmailCode.account_id == account_id,
            EmailCode.purpose == str(purpose),
            EmailCode.code_hash == code_hash,
            EmailCode.expires_at > now,
            EmailCode.failed_attempts < max_failures,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_codes(session: AsyncSession, account_id: uuid.UUID) -> None:
    await session.execute(delete(EmailCode).where(EmailCode.account_id == account_id))


async def account_of_access_token(
    session: AsyncSession, token_hash: str, now: dt.datetime
) -> tuple[Account, uuid.UUID] | None:
    """The account and token family of an unexpired access token of a live family."""
    query = (
        select(Account, TokenFamily.id)
        .join(TokenFamily, TokenFamily.account_id == Account.id)
        .join(AccessToken, AccessToken.family_id == TokenFamily.id)
        .where(AccessToken.token_hash == token_hash, AccessToken.expires_at > now)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def family_for_update(
    session: AsyncSession, family_id: uuid.UUID
) -> TokenFamily | None:
    return await session.get(TokenFamily, family_id, with_for_update=True)


async def delete_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    """The family and, by cascade, its access tokens."""
    await session.execute(delete(TokenFamily).where(TokenFamily.id == family_id))


async def delete_families(
    session: AsyncSession, account_id: uuid.UUID, *, only_dead_at: dt.datetime | None
) -> None:
    """Every family of the account, or with `only_dead_at` those expired by then."""
    statement = delete(TokenFamily).where(TokenFamily.account_id == account_id)
    if only_dead_at is not None:
        statement = statement.where(TokenFamily.refresh_expires_at <= only_dead_at)
    await session.execute(statement)


async def delete_expired_access_tokens(
    session: AsyncSession, family_id: uuid.UUID, now: dt.datetime
) -> None:
    await session.execute(
        delete(AccessToken).where(
            AccessToken.family_id == family_id, AccessToken.expires_at <= now
        )
    )


async def mark_active(
    session: AsyncSession, account_id: uuid.UUID, now: dt.datetime
) -> None:
    """The resident used the account now (a token refresh)."""
    await session.execute(
        update(Account).where(Account.id == account_id).values(last_active_at=now)
    )


async def set_password(
    session: AsyncSession, account_id: uuid.UUID, password_hash: str, now: dt.datetime
) -> None:
    """A new password; the address counts as verified, since the code came through it."""
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(password_hash=password_hash)
    )
    await session.execute(
        update(Account)
        .where(Account.id == account_id, Account.email_verified_at.is_(None))
        .values(email_verified_at=now)
    )


async def device(session: AsyncSession, device_id: uuid.UUID) -> Device | None:
    """The device, or None once it is removed."""
    return await session.get(Device, device_id)


async def delete_devices(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Every device of the account: none of them gets its pushes any more."""
    await session.execute(delete(Device).where(Device.account_id == account_id))
