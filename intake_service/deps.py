"""Dependencies shared by intake's routers (Annotated aliases); each feature's own ones
(the signed-in account, operator keys, photos) are in its `dependencies` module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from pydantic.json_schema import SkipJsonSchema

from intake_service.area.service import ServiceArea
from intake_service.config import Settings
from intake_service.mail.sender import Mailer
from shared.i18n import Lang, negotiate, requested


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_service_area(request: Request) -> ServiceArea:
    area: ServiceArea = request.app.state.service_area
    return area


async def get_mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


async def get_client_address(request: Request) -> str:
    """The client's IP address: the connection's, or the one a trusted proxy forwarded
    (behind a reverse proxy, name it in `INTAKE_TRUSTED_PROXIES` so that this is the
    resident's, not the proxy's; uvicorn reads the header, nothing here does)."""
    return request.client.host if request.client else "unknown"


AccountLanguage = Callable[[Request], Awaitable[str | None]]
"""The signed-in caller's own language (None without a valid token), as
`app.state.account_language` finds it."""


async def get_language(
    request: Request,
    lang: Annotated[
        Lang | SkipJsonSchema[None],
        Query(description="Language of the texts; overrides `Accept-Language`."),
    ] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """`?lang=`, else `Accept-Language`, else a signed-in resident's own language (their
    account's), else Polish. The account is looked up only when the request asks for
    no language."""
    if requested(accept_language, lang) is not None:
        return negotiate(accept_language, lang)
    account_language: AccountLanguage = request.app.state.account_language
    return negotiate(accept_language, lang, default=await account_language(request))


SettingsDep = Annotated[Settings, Depends(get_settings)]
LangDep = Annotated[str, Depends(get_language)]
ServiceAreaDep = Annotated[ServiceArea, Depends(get_service_area)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]
ClientDep = Annotated[str, Depends(get_client_address)]
