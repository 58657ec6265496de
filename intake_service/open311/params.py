"""What the Open311 routes share: their path prefix, the format, language and jurisdiction
parameters, and the parsing of query values (W3C dates, comma lists, page numbers)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.routing import APIRoute

from intake_service.config import Settings
from intake_service.deps import SettingsDep
from intake_service.open311.documents import Format
from intake_service.open311.exceptions import JurisdictionNotFound, Open311Invalid
from shared.i18n import N_, negotiate
from shared.w3c import parse_w3c

PREFIX = "/open311/v2"

ROUTE_CLASS = APIRoute
"""Open311's operations ignore query parameters they do not take, where the resident API
refuses them (`shared.routes.StrictQueryRoute`): GeoReport v2 clients send the parameters of
extensions and of other cities' servers (FixMyStreet sends `jurisdiction_id` and its own
ones everywhere), and must work unchanged."""

MAX_PAGE_SIZE = 1000
"""The most requests a page of `GET requests` holds, and its default size."""

FormatDep = Annotated[
    Format,
    Path(description="`xml` (what CRM-side clients speak) or `json` (bare arrays)."),
]


async def get_lang(
    locale: Annotated[
        str | None,
        Query(
            description="Language of names and texts (`pl`, `en`, `de`); overrides "
            "Accept-Language."
        ),
    ] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    return negotiate(accept_language, locale)


LocaleDep = Annotated[str, Depends(get_lang)]


def ensure_jurisdiction(settings: Settings, jurisdiction_id: str | None) -> None:
    """A `jurisdiction_id` may be left out; another jurisdiction than ours is a 404."""
    if jurisdiction_id and jurisdiction_id != settings.open311_jurisdiction_id:
        raise JurisdictionNotFound(jurisdiction=settings.open311_jurisdiction_id)


async def check_jurisdiction(
    settings: SettingsDep,
    jurisdiction_id: Annotated[
        str | None,
        Query(
            description="May be left out; another jurisdiction than ours is a 404.",
            examples=["wroclaw.pl"],
        ),
    ] = None,
) -> None:
    ensure_jurisdiction(settings, jurisdiction_id)


Jurisdiction = Depends(check_jurisdiction)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def w3c_date(value: str | None, name: str) -> dt.datetime | None:
    """A W3C date-time parameter; None when left out, a 400 naming it when it is not one."""
    if value is None or not value.strip():
        return None
    try:
        return parse_w3c(value)
    except ValueError:
        raise Open311Invalid(
            N_(
                "{field}: a W3C date-time with its zone is needed, e.g. "
                "2026-12-01T10:00:00Z or 2026-12-01T11:00:00+01:00."
            ),
            field=name,
        ) from None


def date_window(
    start_date: str | None, end_date: str | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`start_date` and `end_date` as times (None when left out), the end not before the
    start."""
    start, end = w3c_date(start_date, "start_date"), w3c_date(end_date, "end_date")
    if start and end and end < start:
        raise Open311Invalid(N_("end_date: before start_date."))
    return start, end


def comma_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def page_number(
    value: str | None, name: str, *, default: int, maximum: int | None
) -> int:
    if value is None or not value.strip():
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise Open311Invalid(N_("{field}: a whole number from 1."), field=name)
    number = int(value)
    if maximum is not None and number > maximum:
        raise Open311Invalid(
            N_("{field}: at most {maximum}."), field=name, maximum=maximum
        )
    return number
