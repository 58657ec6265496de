"""POST /v1/reports and GET /v1/reports/{id}."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from intake_service.deps import LangDep, OptionalAccountDep, SettingsDep
from intake_service.reports import service
from intake_service.reports.schemas import ReportCreate, ReportRead
from shared.deps import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="File a report",
    description="Stores a report of something broken at a position. With a valid bearer token "
    "the report is named and the resident is notified of every status change; without one it "
    "is anonymous. The report is handed to the CRM in the background: it starts as `received` "
    "and becomes `submitted` once the responsible unit's CRM has the case.",
    responses=problem_responses(401, 422),
)
async def create_report(
    session: SessionDep,
    settings: SettingsDep,
    lang: LangDep,
    account: OptionalAccountDep,
    data: ReportCreate,
) -> ReportRead:
    report = await service.submit_report(
        session,
        data=data,
        reporter=account,
        number_prefix=settings.report_number_prefix,
    )
    return ReportRead.of(report, lang)


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
