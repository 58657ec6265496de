"""Reading service requests: `GET requests` (found by filters or ids), one request, the
request of a `batch` token, and the mySociety feed of status updates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from intake_service.open311 import openapi, service
from intake_service.open311.documents import render_list
from intake_service.open311.exceptions import (
    Open311Invalid,
    RequestNotFound,
    TokenNotFound,
)
from intake_service.open311.params import (
    MAX_PAGE_SIZE,
    PREFIX,
    ROUTE_CLASS,
    FormatDep,
    Jurisdiction,
    LocaleDep,
    base_url,
    comma_list,
    date_window,
    page_number,
)
from shared.deps import SessionDep
from shared.i18n import N_
from shared.routes import Router

router = Router(prefix=PREFIX, tags=["open311"], route_class=ROUTE_CLASS)


@router.get(
    "/requests.{fmt}",
    summary="Find service requests",
    description=openapi.LIST_REQUESTS_DESCRIPTION,
    dependencies=[Jurisdiction],
    responses=openapi.LIST_REQUESTS_RESPONSES,
    response_class=Response,
)
async def list_requests(
    request: Request,
    session: SessionDep,
    fmt: FormatDep,
    lang: LocaleDep,
    service_request_id: Annotated[
        str | None,
        Query(description="Comma list of ids.", examples=["WRO-2026-000042"]),
    ] = None,
    service_code: Annotated[str | None, Query(description="Comma list.")] = None,
    start_date: Annotated[
        str | None,
        Query(description="W3C date-time.", examples=["2026-11-01T00:00:00Z"]),
    ] = None,
    end_date: Annotated[
        str | None,
        Query(description="W3C date-time.", examples=["2026-12-01T00:00:00+01:00"]),
    ] = None,
    status: Annotated[
        str | None, Query(description="`open`, `closed` or both (comma list).")
    ] = None,
    page: Annotated[str | None, Query(description="Page number, from 1.")] = None,
    page_size: Annotated[
        str | None, Query(description=openapi.PAGE_SIZE_DESCRIPTION)
    ] = None,
) -> Response:
    start, end = date_window(start_date, end_date)
    if start and end and end - start > dt.timedelta(days=service.MAX_DAYS):
        raise Open311Invalid(N_("start_date, end_date: at most 90 days apart."))
    statuses = comma_list(status)
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Invalid(N_("status: open, closed, or both."))
    query = service.RequestQuery(
        numbers=comma_list(service_request_id),
        service_codes=comma_list(service_code),
        start=start,
        end=end,
        statuses=statuses,
        page=page_number(page, "page", default=1, maximum=None),
        page_size=page_number(
            page_size, "page_size", default=MAX_PAGE_SIZE, maximum=MAX_PAGE_SIZE
        ),
    )
    found = await service.find_requests(session, query)
    base = base_url(request)
    return render_list(
        fmt,
        "service_requests",
        "request",
        [service.request_record(report, lang, base) for report in found],
    )


@router.get(
    "/requests/{service_request_id}.{fmt}",
    summary="One service request",
    description="A list of one request (clients read `[0]`); 404 for an unknown id.",
    dependencies=[Jurisdiction],
    responses=openapi.READ_REQUEST_RESPONSES,
    response_class=Response,
)
async def read_request(
    request: Request,
    session: SessionDep,
    fmt: FormatDep,
    lang: LocaleDep,
    service_request_id: Annotated[
        str, Path(description="The request's id.", examples=["WRO-2026-000042"])
    ],
) -> Response:
    report = await service.report_by_number(session, service_request_id)
    if report is None:
        raise RequestNotFound(service_request_id=service_request_id)
    record = service.request_record(report, lang, base_url(request))
    return render_list(fmt, "service_requests", "request", [record])


@router.get(
    "/tokens/{token}.{fmt}",
    summary="The request of a token",
    description=openapi.TOKEN_DESCRIPTION,
    dependencies=[Jurisdiction],
    responses=openapi.TOKEN_RESPONSES,
    response_class=Response,
)
async def read_token(
    session: SessionDep,
    fmt: FormatDep,
    token: Annotated[str, Path(description="The token a POST answered.")],
) -> Response:
    report = await service.report_by_token(session, token)
    if report is None:
        raise TokenNotFound(token=token)
    answer: dict[str, Any] = {"token": token}
    if report.crm_case_id is not None or report.unit_code is not None:
        answer = {"service_request_id": report.number, "token": token}
    return render_list(fmt, "service_requests", "request", [answer])


@router.get(
    "/servicerequestupdates.{fmt}",
    summary="Status updates (mySociety extension)",
    description=openapi.UPDATES_DESCRIPTION,
    dependencies=[Jurisdiction],
    responses=openapi.UPDATES_RESPONSES,
    response_class=Response,
)
async def list_request_updates(
    session: SessionDep,
    fmt: FormatDep,
    start_date: Annotated[str | None, Query(description="W3C date-time.")] = None,
    end_date: Annotated[str | None, Query(description="W3C date-time.")] = None,
    api_key: Annotated[
        str | None, Query(description="Accepted and not needed (reads are open).")
    ] = None,
) -> Response:
    start, end = date_window(start_date, end_date)
    rows = await service.find_updates(session, start=start, end=end, limit=1000)
    return render_list(
        fmt,
        "service_request_updates",
        "request_update",
        [service.update_record(change, report) for change, report in rows],
    )
