"""Dependencies shared by intake's routers (Annotated aliases)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from intake_service.accounts import tokens
from intake_service.accounts.models import Account
from intake_service.area.service import ServiceArea
from intake_service.config import Settings
from intake_service.mail.sender import Mailer
from intake_service.operators.models import OPERATORS
from intake_service.photos.service import Photos
from shared.deps import SessionDep
from shared.errors import NotAuthenticated
from shared.i18n import negotiate
from shared.operators import Operator, OperatorKeys, Role, require_operator


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_service_area(request: Request) -> ServiceArea:
    area: ServiceArea = request.app.state.service_area
    return area


async def get_photos(request: Request) -> Photos:
    photos: Photos = request.app.state.photos
    return photos


async def get_mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


async def get_client_address(request: Request) -> str:
    """The client's IP address: the connection's, or the one a trusted proxy forwarded
    (behind a reverse proxy, name it in `INTAKE_TRUSTED_PROXIES` so that this is the
    resident's, not the proxy's; uvicorn reads the header, nothing here does)."""
    return request.client.host if request.client else "unknown"


async def get_language(
    lang: Annotated[
        str | None,
        Query(
            description="Language of the texts: `pl`, `en` or `de`; overrides Accept-Language."
        ),
    ] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    return negotiate(accept_language, lang)


SettingsDep = Annotated[Settings, Depends(get_settings)]
LangDep = Annotated[str, Depends(get_language)]
ServiceAreaDep = Annotated[ServiceArea, Depends(get_service_area)]
PhotosDep = Annotated[Photos, Depends(get_photos)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]
ClientDep = Annotated[str, Depends(get_client_address)]

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


async def get_operator_keys(session: SessionDep, settings: SettingsDep) -> OperatorKeys:
    return OPERATORS.keys(session, settings.operator_keys)


require_manage = require_operator(Role.MANAGE, get_operator_keys)
require_read = require_operator(Role.READ, get_operator_keys)
OperatorReadDep = Annotated[Operator, Depends(require_read)]
"""The operator acting with a key of any role (`X-API-Key`); 401 without a valid one."""
OperatorManageDep = Annotated[Operator, Depends(require_manage)]
"""The operator acting with a `manage` key; 403 for a `read` key."""
BearerTokenDep = Annotated[str, Depends(get_bearer_token)]
