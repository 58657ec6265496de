"""POST /v1/ideas, and operators' GET /v1/operator/ideas and /v1/operator/ideas.csv."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Response, status

from intake_service.accounts.dependencies import OPTIONAL_AUTH, OptionalAccountDep
from intake_service.area.exceptions import OutsideServiceArea
from intake_service.deps import LangDep, ServiceAreaDep
from intake_service.ideas import service
from intake_service.ideas.schemas import (
    IdeaCreate,
    IdeaCreated,
    IdeaPage,
    IdeaRead,
    IdeaTopic,
)
from intake_service.operators.dependencies import OperatorReadDep
from intake_service.reports.exceptions import UnknownCategory
from intake_service.throttling.exceptions import TooManyWrites, throttled_responses
from intake_service.write_limits import Writes, limited
from shared.csv_export import csv_response, csv_responses
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated
from shared.pagination import InvalidCursor
from shared.params import Timestamp
from shared.routes import Router

router = Router(prefix="/v1/ideas", tags=["ideas"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Send an idea",
    description="An idea for the city or for this app, 1 to 2000 characters, with an "
    "optional `topic` (`app` or `city`), a related category and a position (which must lie "
    "inside the city, as for reports). Anyone may send one; with a bearer token it is kept "
    "with the account, but operators never see who sent it."
    "Limited per client address, account or device (429 with `Retry-After`).",
    responses=throttled_responses(
        NotAuthenticated,
        ValidationFailed,
        UnknownCategory,
        OutsideServiceArea,
        too_many=TooManyWrites,
    ),
    dependencies=[limited(Writes.OTHER)],
    openapi_extra=OPTIONAL_AUTH,
)
async def send_idea(
    session: SessionDep,
    area: ServiceAreaDep,
    account: OptionalAccountDep,
    data: IdeaCreate,
) -> IdeaCreated:
    idea = await service.submit_idea(session, data=data, sender=account, area=area)
    return IdeaCreated(id=idea.id, created_at=idea.created_at)


@dataclass(frozen=True)
class IdeaFilter:
    topic: IdeaTopic | None
    category: str | None
    since: dt.datetime | None


async def idea_filter(
    topic: Annotated[IdeaTopic | None, Query(description="`app` or `city`.")] = None,
    category: Annotated[
        str | None,
        Query(min_length=1, max_length=50, description="A category code."),
    ] = None,
    since: Annotated[
        Timestamp | None,
        Query(description="Only ideas sent at or after this time (with offset or Z)."),
    ] = None,
) -> IdeaFilter:
    return IdeaFilter(topic=topic, category=category, since=since)


IdeaFilterDep = Annotated[IdeaFilter, Depends(idea_filter)]

operator_router = Router(prefix="/v1/operator", tags=["operator"])


@operator_router.get(
    "/ideas",
    summary="Residents' ideas",
    description="Ideas newest first, filtered by topic, category and time, in keyset pages "
    "(pass `next_cursor` back as `cursor`); category names in the language chosen by "
    "`?lang=` or `Accept-Language`. Never says who sent an idea.",
    responses=problem_responses(
        OperatorNotAuthenticated, ValidationFailed, InvalidCursor
    ),
)
async def list_ideas(
    session: SessionDep,
    operator: OperatorReadDep,
    lang: LangDep,
    filters: IdeaFilterDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> IdeaPage:
    ideas, next_cursor = await service.list_ideas(
        session,
        topic=filters.topic,
        category=filters.category,
        since=filters.since,
        cursor=cursor,
        limit=limit,
    )
    return IdeaPage(
        items=[IdeaRead.of(idea, lang) for idea in ideas], next_cursor=next_cursor
    )


@operator_router.get(
    "/ideas.csv",
    summary="Residents' ideas as CSV",
    description="Every idea that matches the filters, newest first, one per row: id, when, "
    "topic, category code, position and text. Never says who sent an idea.",
    response_class=Response,
    responses={
        **csv_responses(
            "\ufeffid,created_at,topic,category,lat,lon,text\r\n"
            "5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10,2026-12-02T09:15:00+00:00,city,"
            "damaged_bench,51.1097,17.0326,Więcej ławek wzdłuż bulwaru.\r\n"
        ),
        **problem_responses(OperatorNotAuthenticated, ValidationFailed),
    },
)
async def export_ideas(
    session: SessionDep, operator: OperatorReadDep, filters: IdeaFilterDep
) -> Response:
    header, rows = await service.export(
        session, topic=filters.topic, category=filters.category, since=filters.since
    )
    return csv_response(header, rows, filename="ideas.csv")
