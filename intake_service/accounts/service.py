"""Registering, verifying the e-mail address, resetting the password, changing settings.

Argon2 and mail run with no transaction open: on SQLite an open one holds the database's
write lock. Answers do not tell whether an address has an account (except registering's
409, which a resident who forgot they had one needs), and mails asked for by address are
sent after the answer, so its timing tells nothing either.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from email.message import EmailMessage

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts import limits, repository
from intake_service.accounts.codes import (
    code_hash,
    code_matches,
    code_message,
    new_code,
    send_code,
)
from intake_service.accounts.exceptions import CodeExpired, EmailTaken, InvalidCode
from intake_service.accounts.models import Account, CodePurpose, EmailCode
from intake_service.accounts.passwords import hash_password
from intake_service.accounts.schemas import (
    AccountCreate,
    AccountUpdate,
    EmailVerification,
    PasswordReset,
)
from intake_service.config import Settings
from intake_service.mail.sender import Mailer
from intake_service.throttling import service as throttle
from intake_service.wakeups import NOTIFICATIONS
from shared.db import utcnow
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)


def _fresh_code(
    settings: Settings,
    account_id: uuid.UUID,
    purpose: CodePurpose,
    now: dt.datetime,
    row: EmailCode | None = None,
) -> tuple[str, EmailCode]:
    """A new code, written over `row` (the one pending before) or into a new row."""
    code = new_code()
    row = row or EmailCode(account_id=account_id, purpose=str(purpose))
    row.code_hash = code_hash(
        settings.secret_key.get_secret_value(), account_id, purpose, code
    )
    row.created_at = now
    row.expires_at = now + dt.timedelta(seconds=settings.email_code_ttl_seconds)
    row.sent_at = None
    row.failed_attempts = 0
    return code, row


def _usable(code: EmailCode, settings: Settings, now: dt.datetime) -> bool:
    return (
        code.expires_at > now and code.failed_attempts < settings.email_code_max_tries
    )


def _message(
    settings: Settings, account: Account, purpose: CodePurpose, code: str
) -> EmailMessage:
    return code_message(
        purpose=purpose,
        code=code,
        sender=settings.mail_from,
        to=account.email,
        name=account.display_name,
        lang=account.lang,
        city=settings.city_name,
        minutes=settings.email_code_ttl_seconds // 60,
        tries=settings.email_code_max_tries,
    )


async def register(
    session: AsyncSession,
    *,
    data: AccountCreate,
    client: str,
    settings: Settings,
    mailer: Mailer,
) -> tuple[Account, bool]:
    """Create an unverified account and mail it a code; True when the mail went out.

    A mail that fails leaves the account in place: the resident asks for another code.
    """
    await throttle.hit(session, limits.mails_of_client(settings, client))
    password_hash = await hash_password(data.password, settings)
    if await repository.email_taken(session, data.email):
        raise EmailTaken()
    now = utcnow()
    account = Account(
        id=uuid.uuid4(),
        email=data.email,
        email_key=repository.email_key(data.email),
        password_hash=password_hash,
        display_name=data.display_name,
        lang=data.lang,
        notify_push=True,
        notify_email=True,
        created_at=now,
    )
    code, row = _fresh_code(settings, account.id, CodePurpose.VERIFY_EMAIL, now)
    try:
        session.add(account)
        # The code refers to the account, so the account's row goes first.
        await session.flush()
        session.add(row)
        await session.commit()
    except IntegrityError as exc:  # the same address registered concurrently
        await session.rollback()
        raise EmailTaken() from exc
    logger.info("accounts.registered", extra={"account_id": str(account.id)})
    message = _message(settings, account, CodePurpose.VERIFY_EMAIL, code)
    sent = await send_code(mailer, message, account.id)
    if sent:
        row.sent_at = utcnow()
        await session.commit()
    return account, sent


async def request_code(
    session: AsyncSession,
    *,
    purpose: CodePurpose,
    email: str,
    client: str,
    settings: Settings,
) -> tuple[EmailMessage, uuid.UUID] | None:
    """A new code for the address and the mail that carries it, or None when nothing is to
    be sent: no such account, a verified one asking to verify, or a code still usable and
    mailed too recently (one void after wrong tries may be replaced at once).

    The code counts as mailed from now on; the caller sends the message.
    """
    await throttle.hit(session, limits.mails_of_client(settings, client))
    account = await repository.by_email(session, email)
    if account is None or (
        purpose is CodePurpose.VERIFY_EMAIL and account.email_verified_at is not None
    ):
        await session.rollback()
        return None
    now = utcnow()
    pending = await repository.code(session, account.id, purpose, for_update=True)
    cooldown = dt.timedelta(seconds=settings.email_code_resend_seconds)
    if (
        pending is not None
        and _usable(pending, settings, now)
        and pending.sent_at is not None
        and pending.sent_at > now - cooldown
    ):
        logger.info("accounts.code_not_resent", extra={"account_id": str(account.id)})
        await session.rollback()
        return None
    code, row = _fresh_code(settings, account.id, purpose, now, pending)
    row.sent_at = now
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:  # a concurrent request made one just now
        await session.rollback()
        return None
    return _message(settings, account, purpose, code), account.id


async def _check_code(
    session: AsyncSession,
    *,
    purpose: CodePurpose,
    email: str,
    code: str,
    client: str,
    settings: Settings,
) -> tuple[Account, EmailCode]:
    """The account and its pending code if `code` is it; otherwise the failure stays
    counted.

    Every try is counted (and committed) before the code is looked at, so that tries sent
    side by side cannot all pass a check made before any of them is counted; a right code
    takes its try back. Leaves the transaction open on success, so the caller acts in the
    same one.
    """
    counted = (
        limits.codes_of_account(settings, email),
        limits.codes_of_client(settings, client),
    )
    await throttle.hit(session, *counted)
    account = await repository.by_email(session, email)
    pending = (
        await repository.code(session, account.id, purpose, for_update=True)
        if account
        else None
    )
    problem: InvalidCode | CodeExpired
    if account is None or pending is None:
        problem = InvalidCode()
    elif not _usable(pending, settings, utcnow()):
        problem = CodeExpired()
    elif not code_matches(
        pending.code_hash,
        code_hash(settings.secret_key.get_secret_value(), account.id, purpose, code),
    ):
        pending.failed_attempts += 1
        problem = InvalidCode()
    else:
        await throttle.clear(session, counted[0])
        await throttle.forgive(session, counted[1])
        return account, pending
    await session.commit()
    logger.info(
        "accounts.code_refused",
        extra={
            "account_id": str(account.id) if account else None,
            "problem": problem.code,
        },
    )
    raise problem


async def verify_email(
    session: AsyncSession, *, data: EmailVerification, client: str, settings: Settings
) -> None:
    account, pending = await _check_code(
        session,
        purpose=CodePurpose.VERIFY_EMAIL,
        email=data.email,
        code=data.code,
        client=client,
        settings=settings,
    )
    await session.delete(pending)
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
    await session.commit()
    logger.info("accounts.email_verified", extra={"account_id": str(account.id)})


async def reset_password(
    session: AsyncSession, *, data: PasswordReset, client: str, settings: Settings
) -> None:
    """Set the new password, count the address as verified, end every sign-in, and stop
    pushes to every device: one in other hands must not keep getting the resident's news."""
    account, pending = await _check_code(
        session,
        purpose=CodePurpose.RESET_PASSWORD,
        email=data.email,
        code=data.code,
        client=client,
        settings=settings,
    )
    account_id, checked_hash = account.id, pending.code_hash
    # The code is right: keep the cleared counter, then hash with no transaction open.
    await session.commit()
    password_hash = await hash_password(data.new_password, settings)
    now = utcnow()
    consumed = await repository.consume_code(
        session,
        account_id=account_id,
        purpose=CodePurpose.RESET_PASSWORD,
        code_hash=checked_hash,
        max_failures=settings.email_code_max_tries,
        now=now,
    )
    if not consumed:  # used by a concurrent request meanwhile
        await session.rollback()
        raise CodeExpired()
    await repository.set_password(session, account_id, password_hash, now)
    # Verified now: a verification code still pending has nothing left to do.
    await repository.delete_codes(session, account_id)
    await repository.delete_families(session, account_id, only_dead_at=None)
    await repository.delete_devices(session, account_id)
    await throttle.clear(session, limits.signin_of_account(settings, data.email))
    # Open notification streams re-check their tokens now, and end.
    wake_after_commit(session, NOTIFICATIONS)
    await session.commit()
    logger.info("accounts.password_reset", extra={"account_id": str(account_id)})


async def update_account(
    session: AsyncSession, account: Account, *, change: AccountUpdate
) -> Account:
    if change.display_name is not None:
        account.display_name = change.display_name
    if change.lang is not None:
        account.lang = change.lang
    channels = change.notification_channels
    if channels is not None and channels.push is not None:
        account.notify_push = channels.push
    if channels is not None and channels.email is not None:
        account.notify_email = channels.email
    await session.commit()
    return account
