"""Operators' GET /admin/cases (and /admin/cases.csv), /admin/cases/{case_id} and
/admin/stats (role `read`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from crm_adapter.cases.exceptions import CaseNotFound
from crm_adapter.cases.models import CaseState
from crm_adapter.monitoring import service
from crm_adapter.monitoring.exceptions import EmptyPeriod
from crm_adapter.monitoring.repository import CaseFilter
from crm_adapter.monitoring.schemas import (
    STATS_CSV_HEADER,
    CasePage,
    CaseRead,
    StatsRead,
    UnitFiguresRead,
)
from crm_adapter.operators.dependencies import ReadOperator
from shared.contracts import ReportStatus
from shared.csv_export import MEDIA_TYPE, csv_response, csv_responses
from shared.db import utcnow
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing
from shared.pagination import InvalidCursor
from shared.params import Timestamp
from shared.routes import Router

router = Router(prefix="/admin", tags=["admin"])

STATS_FILES = csv_responses(
    "\ufeffunit,category,received,open,overdue,resolved,rejected,"
    "median_resolution_hours,within_target_share\r\n"
    "zdium,,120,14,3,98,8,52.5,0.87\r\n"
    "zdium,pothole,80,10,2,65,5,60.25,0.8286\r\n"
)
STATS_FILES[200]["description"] = (
    "The figures in JSON; with `?format=csv` or `Accept: text/csv`, a CSV file (UTF-8 "
    "with a byte order mark, comma-separated, a header row)."
)

OPERATOR_PROBLEMS = (OperatorNotAuthenticated, OperatorRoleMissing, ValidationFailed)


async def case_filter(
    unit: Annotated[
        str | None, Query(min_length=1, max_length=50, description="A unit code.")
    ] = None,
    category: Annotated[
        str | None, Query(min_length=1, max_length=50, description="A category code.")
    ] = None,
    status: Annotated[
        ReportStatus | None, Query(description="A canonical status.")
    ] = None,
    state: Annotated[
        CaseState | None,
        Query(description="Delivery to the CRM: pending, created, unroutable or dead."),
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(
            description="`true`: only open cases past their due time; `false`: none."
        ),
    ] = None,
    since: Annotated[
        Timestamp | None,
        Query(description="Submitted at or after this time (with offset or Z)."),
    ] = None,
    until: Annotated[
        Timestamp | None, Query(description="Submitted before this time.")
    ] = None,
    report_id: Annotated[
        uuid.UUID | None, Query(description="Intake's id of the report.")
    ] = None,
    number: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=32,
            description="The report number the resident was given, e.g. WRO-2026-000123.",
        ),
    ] = None,
) -> CaseFilter:
    return CaseFilter(
        unit=unit,
        category=category,
        status=status,
        state=state,
        overdue=overdue,
        since=since,
        until=until,
        report_id=report_id,
        number=number,
    )


@router.get(
    "/cases",
    summary="Cases",
    description="Every report's case, newest first (by submission), in keyset pages (pass "
    "`next_cursor` back as `cursor`), filtered by unit, category, canonical status, "
    "delivery state, being overdue, submission time, or the report's id or number (to find "
    "a resident's report). Needs a `read` operator key.",
    responses=problem_responses(*OPERATOR_PROBLEMS, InvalidCursor, EmptyPeriod),
)
async def list_cases(
    session: SessionDep,
    operator: ReadOperator,
    filters: Annotated[CaseFilter, Depends(case_filter)],
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> CasePage:
    now = utcnow()
    cases, next_cursor = await service.list_cases(
        session, filters=filters, now=now, cursor=cursor, limit=limit
    )
    return CasePage(
        items=[CaseRead.of(case, now=now) for case in cases], next_cursor=next_cursor
    )


CASES_FILE = csv_responses(
    "\ufeffcase_id,report_id,report_number,category,unit,connector,crm_case_id,"
    "crm_status,status,delivery_state,attempts,last_error,failing_since,delay,"
    "submitted_at,created_at,due_at,overdue,closed_at,updated_at\r\n"
    "0b9f3c1e-6a52-4f0e-9d7a-3c2b1a0f9e8d,5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10,"
    "WRO-2026-000123,pothole,zdium,rest_json,,,received,pending,7,"
    "HTTP 503: CRM unavailable,2026-12-01T09:15:01+00:00,delayed,"
    "2026-12-01T09:15:00+00:00,2026-12-01T09:15:01+00:00,2026-12-08T09:15:00+00:00,"
    "false,,2026-12-01T10:02:00+00:00\r\n"
)


@router.get(
    "/cases.csv",
    summary="Cases as CSV",
    description="The cases `GET /admin/cases` lists with the same filters, every one of "
    "them (no pages), newest first, one per row: the case and report ids, the report "
    "number, category, unit, connector, the CRM's case id and status, the canonical "
    "status, the delivery state (`pending`, `created`, `unroutable`, `dead`), attempts, "
    "the last error, since when its creation fails and what its resident was told of "
    "that (`delay`: `delayed`, `dead` or empty), the times it was submitted, taken by "
    "the adapter, due and closed, whether it is overdue now, and its last change. "
    "Streamed as it is read, so a file of years of cases starts at once. Never the "
    "description or the reporter's contact data. Needs a `read` operator key.",
    response_class=Response,
    responses={
        **CASES_FILE,
        **problem_responses(*OPERATOR_PROBLEMS, EmptyPeriod),
    },
)
async def export_cases(
    request: Request,
    session: SessionDep,
    operator: ReadOperator,
    filters: Annotated[CaseFilter, Depends(case_filter)],
) -> Response:
    now = utcnow()
    lines = await service.export_cases(
        session, request.app.state.sessionmaker, filters=filters, now=now
    )
    return StreamingResponse(
        lines,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="cases-{now:%Y%m%d-%H%M}.csv"'
        },
    )


@router.get(
    "/cases/{case_id}",
    summary="One case",
    description="The case with this id, or the case of the report with this id. Its "
    "`links.deliveries` lists the attempts to pass it to the CRM. Needs a `read` operator "
    "key.",
    responses=problem_responses(*OPERATOR_PROBLEMS, CaseNotFound),
)
async def read_case(
    session: SessionDep,
    operator: ReadOperator,
    case_id: Annotated[
        uuid.UUID, Path(description="The case's id, or its report's id.")
    ],
) -> CaseRead:
    case = await service.get_case(session, case_id)
    return CaseRead.of(case, now=utcnow())


def wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


@router.get(
    "/stats",
    summary="SLA figures per unit and category",
    description="For the cases submitted in `[since, until)` (default: the 90 days up to "
    "now): per responsible unit, and per category within it, how many were received, are "
    "open and overdue now, were resolved and rejected; the median time from submission to "
    "closing, and the share closed by the due time. JSON, or CSV with `?format=csv` or "
    "`Accept: text/csv` (a unit's total row has an empty category). Needs a `read` "
    "operator key.",
    response_model=StatsRead,
    responses={
        **STATS_FILES,
        **problem_responses(*OPERATOR_PROBLEMS, EmptyPeriod),
    },
)
async def read_stats(
    request: Request,
    session: SessionDep,
    operator: ReadOperator,
    since: Annotated[
        Timestamp | None,
        Query(description="Start of the window (inclusive), with offset or Z."),
    ] = None,
    until: Annotated[
        Timestamp | None,
        Query(description="End of the window (exclusive); default now."),
    ] = None,
    format: Annotated[
        Literal["json", "csv"] | None,
        Query(
            description="`csv` for a CSV file; by default the `Accept` header decides."
        ),
    ] = None,
) -> Response | StatsRead:
    now = utcnow()
    start, end = service.stats_window(since, until, now=now)
    units = await service.figures(session, since=start, until=end, now=now)
    if wants_csv(request, format):
        return csv_response(
            STATS_CSV_HEADER,
            service.figures_csv(units),
            filename=f"sla-{start:%Y%m%d}-{end:%Y%m%d}.csv",
        )
    return StatsRead(
        since=start,
        until=end,
        as_of=now,
        units=[UnitFiguresRead.of(unit) for unit in units],
    )
