"""POST /v1/reports and GET /v1/reports/{id}."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, status
from fastapi.responses import JSONResponse

from intake_service.deps import LangDep, OptionalAccountDep, ServiceAreaDep, SettingsDep
from intake_service.reports import service
from intake_service.reports.schemas import ReportCreate, ReportRead
from shared.deps import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportRead,
    summary="File a report",
    description="Stores a report of something broken at a position. With a valid bearer token "
    "the report is named and the resident is notified of every status change; without one it "
    "is anonymous. The report is handed to the CRM in the background: it starts as `received` "
    "and becomes `submitted` once the responsible unit's CRM has the case.\n\n"
    "Send an `Idempotency-Key` (1-255 of `A-Za-z0-9_-`, e.g. a UUID made when the resident "
    "pressed *send*) so that retries on a bad network never file twice: a retry with the same "
    "key and body gets the first answer (with `Idempotent-Replayed: true`) and creates nothing; "
    "the same key with another body is a 422; while the first is still running, a 409. Keys "
    "are kept for 7 days per account (or for anonymous reports).",
    responses={
        201: {
            "headers": {"Idempotent-Replayed": {"description": "`true` on a replay."}}
        },
        **problem_responses(400, 401, 409, 413, 422),
    },
)
async def create_report(
    session: SessionDep,
    settings: SettingsDep,
    area: ServiceAreaDep,
    lang: LangDep,
    account: OptionalAccountDep,
    data: ReportCreate,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Makes retries safe (draft-ietf-httpapi-idempotency-key-header).",
            examples=["0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10"],
        ),
    ] = None,
) -> JSONResponse:
    submitted = await service.submit_report(
        session,
        data=data,
        reporter=account,
        number_prefix=settings.report_number_prefix,
        area=area,
        lang=lang,
        idempotency_key=idempotency_key,
    )
    headers = {"Idempotent-Replayed": "true"} if submitted.replayed else {}
    return JSONResponse(
        submitted.body, status_code=status.HTTP_201_CREATED, headers=headers
    )


@router.get(
    "/{report_id}",
    summary="Read a report",
    description="The public view of a report with its status history. It never includes who "
    "filed it.",
    responses=problem_responses(404, 422),
)
async def read_report(
    session: SessionDep, lang: LangDep, report_id: uuid.UUID
) -> ReportRead:
    return ReportRead.of(await service.get_report(session, report_id), lang)
