"""`discovery` and `services`: where the endpoint is, and the categories as Open311 services
with their definitions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response

from intake_service.categories import service as categories
from intake_service.deps import SettingsDep
from intake_service.open311 import openapi, service
from intake_service.open311.documents import render_list, render_object
from intake_service.open311.exceptions import ServiceNotFound
from intake_service.open311.params import (
    PREFIX,
    ROUTE_CLASS,
    FormatDep,
    Jurisdiction,
    LocaleDep,
    base_url,
)
from shared.deps import SessionDep
from shared.routes import Router

router = Router(prefix=PREFIX, tags=["open311"], route_class=ROUTE_CLASS)


@router.get(
    "/discovery.{fmt}",
    summary="Service discovery",
    description="Where this GeoReport v2 endpoint is, its formats and its contact.",
    responses=openapi.DISCOVERY_RESPONSES,
    response_class=Response,
)
async def read_discovery(
    request: Request, fmt: FormatDep, settings: SettingsDep
) -> Response:
    # When the endpoint last changed: POST servicerequestupdates, media fetched later.
    changeset = "2026-12-07T00:00:00Z"
    return render_object(
        fmt,
        "discovery",
        {
            "changeset": changeset,
            "contact": f"{settings.city_name}: {base_url(request)}/docs",
            "key_service": settings.open311_key_service or f"{base_url(request)}/docs",
            "endpoints": [
                {
                    "specification": service.SPECIFICATION,
                    "url": base_url(request) + PREFIX,
                    "changeset": changeset,
                    "type": "production",
                    "formats": service.FORMATS,
                }
            ],
        },
    )


@router.get(
    "/services.{fmt}",
    summary="Services (report categories)",
    description=openapi.SERVICES_DESCRIPTION,
    dependencies=[Jurisdiction],
    responses=openapi.SERVICES_RESPONSES,
    response_class=Response,
)
async def list_services(
    session: SessionDep, fmt: FormatDep, lang: LocaleDep, settings: SettingsDep
) -> Response:
    active = await categories.list_active(session)
    return render_list(
        fmt,
        "services",
        "service",
        [service.service(c, lang, settings.open311_service_type) for c in active],
    )


@router.get(
    "/services/{service_code}.{fmt}",
    summary="Service definition",
    description="The attributes a request of this service carries (`attribute[CODE]`).",
    dependencies=[Jurisdiction],
    responses=openapi.SERVICE_DEFINITION_RESPONSES,
    response_class=Response,
)
async def read_service_definition(
    session: SessionDep,
    fmt: FormatDep,
    lang: LocaleDep,
    service_code: Annotated[str, Path(description="A service's `service_code`.")],
) -> Response:
    category = await categories.get_active(session, service_code)
    if category is None:
        raise ServiceNotFound(service_code=service_code)
    return render_object(
        fmt, "service_definition", service.service_definition(category, lang)
    )
