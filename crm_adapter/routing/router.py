"""Operator endpoints of the routing table (/admin/routing) and of held reports
(/admin/unroutable)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response

from crm_adapter.deps import SettingsDep
from crm_adapter.operators.dependencies import ManageOperator, ReadOperator
from crm_adapter.routing import admin
from crm_adapter.routing.exceptions import (
    RoutingTableInvalid,
    RoutingVersionChanged,
    RoutingVersionNotFound,
    RoutingVersionRequired,
)
from crm_adapter.routing.schemas import (
    IDENTIFIER,
    Location,
    RerouteResult,
    Resolution,
    RoutingTableWrite,
    RoutingVersionRead,
    RuleRead,
    UnitRead,
    UnroutableCaseRead,
    UnroutablePage,
    VersionPage,
)
from crm_adapter.routing.service import resolve
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing
from shared.pagination import InvalidCursor
from shared.preconditions import IF_MATCH_PARAMETER, etag, etag_header
from shared.routes import Router

MAX_VERSION = 2**31 - 1
"""The largest version number the table's integer column holds."""

router = Router(prefix="/admin", tags=["admin"])

READ_PROBLEMS = (OperatorNotAuthenticated, OperatorRoleMissing)


async def connector_names(request: Request) -> Collection[str]:
    """The names of the CRM connectors this adapter has configured."""
    names: Collection[str] = request.app.state.crm_connector_names
    return names


ConnectorNamesDep = Annotated[Collection[str], Depends(connector_names)]


def _with_etag(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, Any]:
    return {
        200: {
            "headers": etag_header(
                "The version's number, quoted: send it as `If-Match` with the next PUT."
            )
        },
        **responses,
    }


@router.get(
    "/routing",
    summary="The routing table in effect",
    description="The version of the routing table in effect: its units (each with its CRM "
    "connector) and its rules in order, with who made it and when. The `ETag` header names "
    "the version; send it as `If-Match` to change the table. Needs the `read` role.",
    responses=_with_etag(problem_responses(*READ_PROBLEMS)),
)
async def get_routing(
    session: SessionDep, operator: ReadOperator, response: Response
) -> RoutingVersionRead:
    version = await admin.in_effect(session)
    response.headers["ETag"] = etag(version.version)
    return version


PUT_PROBLEMS = problem_responses(
    *READ_PROBLEMS,
    RoutingTableInvalid,
    ValidationFailed,
    RoutingVersionChanged,
    RoutingVersionRequired,
)
PUT_PROBLEMS[412]["description"] = "Another version took effect since the one read."
PUT_PROBLEMS[428]["description"] = "`If-Match` is missing."


@router.put(
    "/routing",
    summary="Replace the routing table",
    description="Makes the whole table sent (units and rules) the next version, in effect "
    "at once; earlier versions are kept. Send the `ETag` of the version you read as "
    "`If-Match`: without it the answer is 428, and 412 when another version has taken "
    "effect since (read it again and redo your change on it).\n\n"
    "A report goes by the rules of its category: a rule whose `area` (a GeoJSON Polygon or "
    "MultiPolygon, edge included) holds the report's point wins over the rule without "
    "area; of several such areas the highest `priority` wins, then the rule listed first. "
    "The table is refused (422, each offending entry named in `errors`) for a unit or "
    "connector it does not know, two units with one code, an area that is not a valid "
    "closed polygon in WGS 84 within the city's region (`ADAPTER_ROUTING_BOUNDS`), or two rules of a category with the same area (or both "
    "without). Reports held because no rule covered them are routed by the new version "
    "at once, and go to the CRM. Needs the `manage` role; recorded in the audit log.",
    responses=_with_etag(PUT_PROBLEMS),
    # Required, and read by the route itself: without it the answer is a 428, which
    # FastAPI's check of a required header (a 422) would not give.
    openapi_extra={"parameters": [IF_MATCH_PARAMETER]},
)
async def put_routing(
    request: Request,
    session: SessionDep,
    operator: ManageOperator,
    connectors: ConnectorNamesDep,
    settings: SettingsDep,
    table: RoutingTableWrite,
    response: Response,
) -> RoutingVersionRead:
    version = await admin.replace_table(
        session,
        operator,
        table=table,
        if_match=request.headers.get("if-match"),
        connectors=connectors,
        bounds=settings.routing_region(),
    )
    response.headers["ETag"] = etag(version.version)
    return version


@router.get(
    "/routing/versions",
    summary="The routing table's versions",
    description="Every version of the routing table, newest first: its number, who made it "
    "(the operator key's name), when, why, and until when it was in effect. Pass "
    "`next_before` back as `before` for the next page. Needs the `read` role.",
    responses=problem_responses(*READ_PROBLEMS),
)
async def list_versions(
    session: SessionDep,
    operator: ReadOperator,
    before: Annotated[
        int | None,
        Query(ge=1, le=MAX_VERSION, description="Versions numbered below this one."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
) -> VersionPage:
    return await admin.list_versions(session, before=before, limit=limit)


@router.get(
    "/routing/versions/{number}",
    summary="One version of the routing table",
    description="A version of the routing table as it was made, units and rules; the "
    "`ETag` names it. Needs the `read` role.",
    responses=_with_etag(problem_responses(*READ_PROBLEMS, RoutingVersionNotFound)),
)
async def get_version(
    session: SessionDep,
    operator: ReadOperator,
    number: Annotated[
        int, Path(ge=1, le=MAX_VERSION, description="The version's number.")
    ],
    response: Response,
) -> RoutingVersionRead:
    version = await admin.get_version(session, number)
    response.headers["ETag"] = etag(version.version)
    return version


@router.get(
    "/routing/resolve",
    summary="Where a report would go",
    description="The rule, unit and connector a report of the category at the point would "
    "get under the version in effect (null when no rule covers it, and it would be held). "
    "Changes nothing. Needs the `read` role.",
    responses=problem_responses(*READ_PROBLEMS),
)
async def resolve_point(
    session: SessionDep,
    operator: ReadOperator,
    category: Annotated[
        str, Query(pattern=IDENTIFIER, description="The category's code.")
    ],
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude (WGS 84).")],
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude (WGS 84).")],
) -> Resolution:
    decision = await resolve(session, category=category, lat=lat, lon=lon)
    if decision.version is None:
        raise RoutingVersionNotFound(version=1)
    return Resolution(
        version=decision.version,
        rule=RuleRead.of(decision.rule) if decision.rule else None,
        unit=UnitRead.model_validate(decision.unit) if decision.unit else None,
        connector=decision.connector,
    )


@router.get(
    "/unroutable",
    summary="Reports held as unroutable",
    description="Reports no rule of the routing table covered when they came, newest "
    "first: they wait here, never dropped, until a new version of the table (PUT "
    "/admin/routing) or `POST /admin/unroutable/reroute` routes them. Pass `next_cursor` "
    "back as `cursor` for the next page. Needs the `read` role.",
    responses=problem_responses(*READ_PROBLEMS, InvalidCursor),
)
async def list_unroutable(
    session: SessionDep,
    operator: ReadOperator,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> UnroutablePage:
    cases, next_cursor = await admin.list_held(session, cursor=cursor, limit=limit)
    return UnroutablePage(
        items=[
            UnroutableCaseRead(
                report_id=case.report_id,
                report_number=case.report_number,
                category=case.category,
                location=Location(lat=case.lat, lon=case.lon),
                submitted_at=case.submitted_at,
                held_since=case.created_at,
                routing_version=case.routing_version,
                reason=case.last_error,
            )
            for case in cases
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "/unroutable/reroute",
    summary="Route the held reports again",
    description="Routes every report held as unroutable by the version of the table in "
    "effect; those it covers go to the CRM, the others stay held. A new version does this "
    "by itself; this is for trying again. Needs the `manage` role; recorded in the audit "
    "log.",
    responses=problem_responses(*READ_PROBLEMS),
)
async def reroute_unroutable(
    session: SessionDep, operator: ManageOperator
) -> RerouteResult:
    return await admin.reroute_held(session, operator)
