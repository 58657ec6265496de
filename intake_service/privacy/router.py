"""GET /v1/me/export and DELETE /v1/me."""

from __future__ import annotations

from fastapi import Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from intake_service.accounts.dependencies import AccountDep
from intake_service.privacy import service
from intake_service.privacy.schemas import DataExport
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, problem_responses
from shared.routes import Router

router = Router(prefix="/v1/me", tags=["me"])


@router.get(
    "/export",
    summary="Everything stored about me",
    description="The signed-in resident's data as one JSON document (GDPR articles 15 and "
    "20): the account, their reports in full, the reports they supported, their "
    "notifications, devices, feedback, ideas and which surveys they answered (answers "
    "are stored without a name). Sent as a file to save.",
    response_model=DataExport,
    responses=problem_responses(NotAuthenticated),
)
async def export_me(session: SessionDep, account: AccountDep) -> JSONResponse:
    data = await service.export(session, account)
    return JSONResponse(
        jsonable_encoder(data),
        headers={
            "Content-Disposition": 'attachment; filename="mam-my-data.json"',
            # Everything about a person: no cache on the way may keep a copy.
            "Cache-Control": "no-store",
        },
    )


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Erase my account",
    description="Erases the resident's personal data at once and for good: the account, "
    "its tokens (every session ends), devices and notifications. Their reports stay for the "
    "city, detached from them and no longer showing their name; where their name and e-mail "
    "went to the CRM with their consent, the CRM adapter is told to erase them there too.",
    responses=problem_responses(NotAuthenticated),
)
async def erase_me(session: SessionDep, account: AccountDep) -> Response:
    await service.erase(session, account)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
