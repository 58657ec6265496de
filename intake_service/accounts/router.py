"""Accounts (/v1/accounts), sign-in and tokens (/v1/auth), and the resident's own settings."""

from __future__ import annotations

from fastapi import BackgroundTasks, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts import service, tokens
from intake_service.accounts.codes import send_code
from intake_service.accounts.dependencies import AccountDep, BearerTokenDep
from intake_service.accounts.exceptions import (
    CodeExpired,
    EmailTaken,
    InvalidCode,
    InvalidCredentials,
    InvalidRefreshToken,
)
from intake_service.accounts.models import CodePurpose
from intake_service.accounts.schemas import (
    AccountCreate,
    AccountCreated,
    AccountRead,
    AccountUpdate,
    CodeRequest,
    EmailVerification,
    PasswordReset,
    RefreshRequest,
    TokenRead,
    TokenRequest,
)
from intake_service.config import Settings
from intake_service.deps import ClientDep, MailerDep, SettingsDep
from intake_service.mail.sender import Mailer
from intake_service.throttling.exceptions import throttled_responses
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses
from shared.routes import Router

router = Router(tags=["accounts"])
me_router = Router(prefix="/v1/me", tags=["me"])

UNVERIFIED = (
    "Until the address is verified the account can sign in and file reports, but they are "
    "not yet named for it: the resident is not told about their progress, nor about "
    "reports they support. From verification on, every later change of all of them is told."
)
NO_ENUMERATION = (
    "The answer is 202 whether or not the address has an account (and nothing is sent when "
    "it has none), so it tells no one which addresses are registered."
)


def _token_read(pair: tokens.TokenPair, response: Response) -> TokenRead:
    # Tokens are credentials: no cache on the way may keep them (RFC 6749 §5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenRead(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
    )


@router.post(
    "/v1/accounts",
    status_code=status.HTTP_201_CREATED,
    summary="Create a resident account",
    description="Registers a resident and e-mails a 6-digit code, in the language chosen "
    "here, to verify the address (`POST /v1/accounts/verification`); by default the code is "
    "valid for 15 minutes and 5 tries. "
    + UNVERIFIED
    + " If the mail cannot be sent now, the account "
    "exists all the same and `verification_email_sent` is false: ask for a new code with "
    "`POST /v1/accounts/verification/resend`.\n\nPasswords need at least 10 characters, "
    "must not be one of the most common passwords nor contain the address's part before "
    "the @. An address that differs from a registered one only in case is the same address "
    "(409).",
    responses=throttled_responses(EmailTaken, ValidationFailed),
)
async def create_account(
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    client: ClientDep,
    data: AccountCreate,
) -> AccountCreated:
    account, sent = await service.register(
        session, data=data, client=client, settings=settings, mailer=mailer
    )
    return AccountCreated(
        **AccountRead.of(account).model_dump(), verification_email_sent=sent
    )


@router.post(
    "/v1/accounts/verification",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Verify the e-mail address",
    description="Confirms the address with the code mailed to it. "
    + UNVERIFIED
    + " After 5 wrong tries, or 15 minutes (the defaults), the code is void (`code-expired`) and a new one "
    "is needed. Wrong codes are also limited per address and per client (429 with "
    "`Retry-After`).",
    responses={
        204: {"description": "Verified."},
        **throttled_responses(InvalidCode, CodeExpired, ValidationFailed),
    },
)
async def verify_email(
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    data: EmailVerification,
) -> Response:
    await service.verify_email(session, data=data, client=client, settings=settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/accounts/verification/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Send a new verification code",
    description="Mails a new code to an unverified account's address; the previous code is "
    "void from then on. At most one mail a minute goes to an account: asking again sooner "
    "sends nothing, unless the last code is void already (expired or entered wrongly too "
    "often). " + NO_ENUMERATION,
    responses={
        202: {"description": "A code is on its way if the address needs one."},
        **throttled_responses(ValidationFailed),
    },
)
async def resend_verification(
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    client: ClientDep,
    background: BackgroundTasks,
    data: CodeRequest,
) -> Response:
    return await _mail_code_after_answer(
        session, settings, mailer, client, background, data, CodePurpose.VERIFY_EMAIL
    )


@router.post(
    "/v1/auth/token",
    summary="Sign in",
    description="Exchanges e-mail and password for an opaque access token (15 minutes by "
    "default) and an opaque refresh token (30 days) that gets new ones from `POST /v1/auth/refresh`. "
    "Failed attempts are limited per address and per client: beyond that the answer is 429 "
    "with `Retry-After`, even for the right password; a successful sign-in clears the "
    "address's count.",
    responses=throttled_responses(InvalidCredentials, ValidationFailed),
)
async def create_token(
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    data: TokenRequest,
    response: Response,
) -> TokenRead:
    pair = await tokens.sign_in(session, data=data, client=client, settings=settings)
    return _token_read(pair, response)


@router.post(
    "/v1/auth/refresh",
    summary="Refresh the tokens",
    description="Exchanges the refresh token for a new access token and a new refresh "
    "token; the one sent is void from then on. A refresh token that was used already "
    "means that someone else may hold a copy: the whole sign-in ends, every token issued "
    "from it included, and the resident signs in again (401).",
    responses=problem_responses(InvalidRefreshToken, ValidationFailed),
)
async def refresh_token(
    session: SessionDep, settings: SettingsDep, data: RefreshRequest, response: Response
) -> TokenRead:
    pair = await tokens.refresh(
        session, refresh_token=data.refresh_token, settings=settings
    )
    return _token_read(pair, response)


@router.post(
    "/v1/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Sign out",
    description="Ends the sign-in of the access token sent: it, the refresh token and every "
    "other access token issued from that sign-in stop working. Other devices stay signed in.",
    responses={
        204: {"description": "Signed out."},
        **problem_responses(NotAuthenticated),
    },
)
async def sign_out(session: SessionDep, token: BearerTokenDep) -> Response:
    await tokens.sign_out(session, access_token=token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Ask for a password reset code",
    description="Mails a 6-digit code (by default valid for 15 minutes and 5 tries) to the address if "
    "it has an account; set the new password with `POST /v1/auth/password-reset/confirm`. "
    "At most one mail a minute goes to an account. " + NO_ENUMERATION,
    responses={
        202: {"description": "A code is on its way if the address has an account."},
        **throttled_responses(ValidationFailed),
    },
)
async def request_password_reset(
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    client: ClientDep,
    background: BackgroundTasks,
    data: CodeRequest,
) -> Response:
    return await _mail_code_after_answer(
        session, settings, mailer, client, background, data, CodePurpose.RESET_PASSWORD
    )


@router.post(
    "/v1/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Set a new password with a reset code",
    description="Sets the new password (the same rules as at registration), counts the "
    "address as verified (the code came through it) and ends every sign-in of the account "
    "on every device. Wrong codes are limited as in verification.",
    responses={
        204: {"description": "The password is changed; sign in with it."},
        **throttled_responses(InvalidCode, CodeExpired, ValidationFailed),
    },
)
async def confirm_password_reset(
    session: SessionDep, settings: SettingsDep, client: ClientDep, data: PasswordReset
) -> Response:
    await service.reset_password(session, data=data, client=client, settings=settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.get(
    "",
    summary="My account",
    description="The signed-in resident's account: address, whether it is verified, name, "
    "language and notification channels. " + UNVERIFIED,
    responses=problem_responses(NotAuthenticated),
)
async def read_me(account: AccountDep) -> AccountRead:
    return AccountRead.of(account)


@me_router.patch(
    "",
    summary="Change my account's settings",
    description="Changes the display name, the language of notifications and e-mails, and "
    "the notification channels (push, e-mail; the in-app feed is always on). Only the "
    "fields given change. E-mails go only to a verified address, whatever is chosen here.",
    responses=problem_responses(NotAuthenticated, ValidationFailed),
)
async def update_me(
    session: SessionDep, account: AccountDep, change: AccountUpdate
) -> AccountRead:
    return AccountRead.of(await service.update_account(session, account, change=change))


async def _mail_code_after_answer(
    session: AsyncSession,
    settings: Settings,
    mailer: Mailer,
    client: str,
    background: BackgroundTasks,
    data: CodeRequest,
    purpose: CodePurpose,
) -> Response:
    """202 whether or not the address has an account; the mail, if any, goes after it."""
    found = await service.request_code(
        session, purpose=purpose, email=data.email, client=client, settings=settings
    )
    if found is not None:
        background.add_task(send_code, mailer, *found)
    return Response(status_code=status.HTTP_202_ACCEPTED)
