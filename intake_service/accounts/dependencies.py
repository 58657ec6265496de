"""The signed-in resident, from the bearer token of a request (Annotated aliases)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from intake_service.accounts import tokens
from intake_service.accounts.models import Account
from shared.deps import SessionDep
from shared.errors import NotAuthenticated

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
    return account


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
