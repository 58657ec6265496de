"""The signed-in resident, from the bearer token of a request (Annotated aliases)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from intake_service.accounts import tokens
from intake_service.accounts.models import Account
from shared.deps import SessionDep
from shared.errors import ACCOUNT_LANGUAGE, NotAuthenticated

_bearer = HTTPBearer(
    auto_error=False, description="An access token from `POST /v1/auth/token`."
)


async def get_bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The bearer token as sent (for signing out); checked by the use case."""
    if credentials is None:
        raise NotAuthenticated()
    return credentials.credentials


async def get_optional_account(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account | None:
    """The signed-in resident, or None without a token; a bad or expired token is a 401."""
    if credentials is None:
        return None
    account = await tokens.authenticate_token(session, credentials.credentials)
    # End the read: a request body still streaming in (photos from a slow phone) must not
    # hold SQLite's write lock or a pooled PostgreSQL connection meanwhile.
    await session.commit()
    if account is None:
        raise NotAuthenticated()
    setattr(request.state, ACCOUNT_LANGUAGE, account.lang)
    return account


async def account_language(request: Request) -> str | None:
    """The signed-in caller's own language, for a request that asks for none; None without
    a valid bearer token (a bad one is refused where an account is needed, not here)."""
    if hasattr(request.state, ACCOUNT_LANGUAGE):  # looked up already
        known: str | None = getattr(request.state, ACCOUNT_LANGUAGE)
        return known
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    async with request.app.state.sessionmaker() as session:
        account = await tokens.authenticate_token(session, token.strip())
        lang = account.lang if account is not None else None
    setattr(request.state, ACCOUNT_LANGUAGE, lang)
    return lang


async def get_account(
    account: Annotated[Account | None, Depends(get_optional_account)],
) -> Account:
    if account is None:
        raise NotAuthenticated()
    return account


OptionalAccountDep = Annotated[Account | None, Depends(get_optional_account)]
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}
"""`openapi_extra` of an operation that takes `OptionalAccountDep`: the token may be left out
(it is added to the bearer requirement FastAPI lists)."""
AccountDep = Annotated[Account, Depends(get_account)]
BearerTokenDep = Annotated[str, Depends(get_bearer_token)]
