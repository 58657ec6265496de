"""`GET /v1/operator/open311/media`: the photo links Open311 clients sent with requests and
what became of each, so that staff can open a link whose photo never arrived."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from intake_service.deps import LangDep
from intake_service.open311 import media_repository
from intake_service.open311.media import REASONS
from intake_service.open311.models import MediaState
from intake_service.open311.schemas import MediaLinkRead
from intake_service.operators.dependencies import OperatorReadDep
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.i18n import translate
from shared.operators import OperatorNotAuthenticated
from shared.routes import Router

operator_router = Router(prefix="/v1/operator/open311", tags=["operator"])


@operator_router.get(
    "/media",
    summary="Photo links of Open311 requests",
    description="Each `media_url` an Open311 client sent with a request, newest first: "
    "being fetched, fetched (the report has the photo) or given up (`failed`: the host "
    "never answered within the attempts, the photo was missing, too large or not a photo, "
    "or the address was not a public one). The link itself is only here, for staff: the "
    "public record of the request never points to it. Filter by `state` and by the "
    "report's number; the reason of a failure in the language of `?lang=` or "
    "Accept-Language.",
    responses=problem_responses(OperatorNotAuthenticated, ValidationFailed),
)
async def list_media_links(
    session: SessionDep,
    operator: OperatorReadDep,
    lang: LangDep,
    state: Annotated[
        MediaState | None, Query(description="Only links in this state.")
    ] = None,
    report: Annotated[
        str | None,
        Query(
            description="Only the links of this report (its number).",
            max_length=32,
            examples=["WRO-2026-000042"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Most links listed.")] = 100,
) -> list[MediaLinkRead]:
    rows = await media_repository.listed(
        session, state=state, number=report, limit=limit
    )
    return [
        MediaLinkRead(
            report_id=media.report_id,
            report_number=number,
            url=media.url,
            state=media.state,
            attempts=media.attempts,
            failure=media.failure,
            failure_text=translate(REASONS[media.failure], lang)
            if media.failure in REASONS
            else None,
            last_error=media.last_error,
            photo_id=media.photo_id,
            next_attempt_at=media.next_attempt_at,
            created_at=media.created_at,
            finished_at=media.finished_at,
        )
        for media, number in rows
    ]
