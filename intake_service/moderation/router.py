"""Residents' POST /v1/reports/{id}/abuse; operators' moderation under /v1/operator: a
report as they see it, hiding and showing again its description or a photo, the queue of
flagged reports and dismissing flags, and every photo, hidden or not."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Header, Query, Request, Response, status
from pydantic.json_schema import SkipJsonSchema

from intake_service.accounts.dependencies import OPTIONAL_AUTH, OptionalAccountDep
from intake_service.deps import ClientDep, LangDep, SettingsDep
from intake_service.moderation import service
from intake_service.moderation.exceptions import ReportPhotoNotFound
from intake_service.moderation.limits import FLAG_LIMITED, flagger
from intake_service.moderation.schemas import (
    FLAG_THANKS,
    AbuseFlagAccepted,
    AbuseFlagCreate,
    ModeratedReportRead,
    ModerationReason,
    QueueItem,
    QueuePage,
)
from intake_service.moderation.service import Moderated
from intake_service.operators.dependencies import OperatorManageDep, OperatorReadDep
from intake_service.photos.dependencies import PhotosDep
from intake_service.photos.exceptions import PhotoNotFound, PhotoStoreUnavailable
from intake_service.photos.router import serve_photo
from intake_service.reports.exceptions import ReportNotFound
from intake_service.throttling.exceptions import TooManyWrites, throttled_responses
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses
from shared.i18n import translate
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing
from shared.pagination import InvalidCursor
from shared.routes import Router

router = Router(prefix="/v1/reports", tags=["reports"])


@router.post(
    "/{report_id}/abuse",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Flag a report to the moderators",
    description="Tells the city's moderators that a report shows what it should not: "
    "personal data, insults, a face or a number plate, something unrelated, spam. Anyone "
    "may flag, signed in or not; a flag counts once per account (or, not signed in, per "
    "client address) until the moderators have looked at the report, however often it is "
    "sent. The answer is the same either way. Limited per client address and account "
    "(429 with `Retry-After`).",
    responses=throttled_responses(
        NotAuthenticated, ReportNotFound, ValidationFailed, too_many=TooManyWrites
    ),
    dependencies=[FLAG_LIMITED],
    openapi_extra=OPTIONAL_AUTH,
)
async def flag_report_abuse(
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    lang: LangDep,
    account: OptionalAccountDep,
    report_id: uuid.UUID,
    data: AbuseFlagCreate,
) -> AbuseFlagAccepted:
    await service.flag_report(
        session,
        report_id=report_id,
        data=data,
        flagger=flagger(settings, client=client, account=account),
    )
    return AbuseFlagAccepted(report_id=report_id, message=translate(FLAG_THANKS, lang))


operator_router = Router(prefix="/v1/operator", tags=["operator"])

READ_PROBLEMS = (OperatorNotAuthenticated, ValidationFailed)
MANAGE_PROBLEMS = (OperatorNotAuthenticated, OperatorRoleMissing, ValidationFailed)
_CHANGES = (
    " Hiding what is hidden, or showing what is shown, changes nothing. Needs the "
    "`manage` role; recorded in the audit log and in the report's `moderation`."
)


def _read(moderated: Moderated, lang: str) -> ModeratedReportRead:
    return ModeratedReportRead.of(
        moderated.report, moderated.events, moderated.reasons, lang
    )


@operator_router.get(
    "/reports/{report_id}",
    summary="A report as moderators see it",
    description="Everything about a report, what the public does not see included: the "
    "description as written, every photo (hidden ones through `GET /v1/operator/photos/"
    "{photo_id}`), the open abuse flags by reason, and the moderation history with each "
    "operator's reason. Reason names in the language of `?lang=` or `Accept-Language`. "
    "Never who filed it.",
    responses=problem_responses(*READ_PROBLEMS, ReportNotFound),
)
async def read_moderated_report(
    session: SessionDep, operator: OperatorReadDep, lang: LangDep, report_id: uuid.UUID
) -> ModeratedReportRead:
    return _read(await service.moderated_report(session, report_id), lang)


@operator_router.post(
    "/reports/{report_id}/description/hide",
    summary="Hide a report's description",
    description="From now on every public view (the report, lists, the map, nearby "
    "reports, Open311) shows a notice instead of the description; its reporter still "
    "reads it in their own reports, and a named reporter with a verified address is told, "
    "in their language, with the reason code's name (never the operator's words). "
    "Resolves the report's open abuse flags." + _CHANGES,
    responses=problem_responses(*MANAGE_PROBLEMS, ReportNotFound),
)
async def hide_report_description(
    session: SessionDep,
    operator: OperatorManageDep,
    lang: LangDep,
    report_id: uuid.UUID,
    why: ModerationReason,
) -> ModeratedReportRead:
    moderated = await service.set_description_hidden(
        session, report_id=report_id, hidden=True, why=why, operator=operator
    )
    return _read(moderated, lang)


@operator_router.post(
    "/reports/{report_id}/description/restore",
    summary="Show a report's description again",
    description="Every public view shows the description again; the reporter is told."
    + _CHANGES,
    responses=problem_responses(*MANAGE_PROBLEMS, ReportNotFound),
)
async def restore_report_description(
    session: SessionDep,
    operator: OperatorManageDep,
    lang: LangDep,
    report_id: uuid.UUID,
    why: ModerationReason,
) -> ModeratedReportRead:
    moderated = await service.set_description_hidden(
        session, report_id=report_id, hidden=False, why=why, operator=operator
    )
    return _read(moderated, lang)


@operator_router.post(
    "/reports/{report_id}/photos/{photo_id}/hide",
    summary="Hide a report's photo",
    description="The photo leaves every public view (the report, lists, the map, "
    "Open311's `media_url`); `GET /v1/photos/{photo_id}` and the CRMs' signed links "
    "answer 404 `photo-hidden`. Operators still see it. A named reporter with a verified "
    "address is told, with the reason code's name. Resolves the report's open abuse flags."
    + _CHANGES,
    responses=problem_responses(*MANAGE_PROBLEMS, ReportNotFound, ReportPhotoNotFound),
)
async def hide_report_photo(
    session: SessionDep,
    operator: OperatorManageDep,
    lang: LangDep,
    report_id: uuid.UUID,
    photo_id: uuid.UUID,
    why: ModerationReason,
) -> ModeratedReportRead:
    moderated = await service.set_photo_hidden(
        session,
        report_id=report_id,
        photo_id=photo_id,
        hidden=True,
        why=why,
        operator=operator,
    )
    return _read(moderated, lang)


@operator_router.post(
    "/reports/{report_id}/photos/{photo_id}/restore",
    summary="Show a report's photo again",
    description="The photo is public again, and served to the CRMs' links; the reporter is "
    "told." + _CHANGES,
    responses=problem_responses(*MANAGE_PROBLEMS, ReportNotFound, ReportPhotoNotFound),
)
async def restore_report_photo(
    session: SessionDep,
    operator: OperatorManageDep,
    lang: LangDep,
    report_id: uuid.UUID,
    photo_id: uuid.UUID,
    why: ModerationReason,
) -> ModeratedReportRead:
    moderated = await service.set_photo_hidden(
        session,
        report_id=report_id,
        photo_id=photo_id,
        hidden=False,
        why=why,
        operator=operator,
    )
    return _read(moderated, lang)


@operator_router.post(
    "/reports/{report_id}/flags/dismiss",
    summary="Dismiss a report's abuse flags",
    description="Resolves the report's open flags without hiding anything: it leaves the "
    "queue until residents flag it again. With no open flags nothing changes. Needs the "
    "`manage` role; recorded in the audit log and in the report's `moderation`.",
    responses=problem_responses(*MANAGE_PROBLEMS, ReportNotFound),
)
async def dismiss_report_flags(
    session: SessionDep,
    operator: OperatorManageDep,
    lang: LangDep,
    report_id: uuid.UUID,
    why: ModerationReason,
) -> ModeratedReportRead:
    moderated = await service.dismiss_flags(
        session, report_id=report_id, why=why, operator=operator
    )
    return _read(moderated, lang)


@operator_router.get(
    "/moderation/queue",
    summary="Reports flagged by residents",
    description="The reports with open abuse flags, the most flagged first, then those "
    "flagged longest ago, each with its flags by reason and the newest comments, in keyset "
    "pages (pass `next_cursor` back as `cursor`). Hiding something of a report, or "
    "dismissing its flags, takes it off the queue.",
    responses=problem_responses(*READ_PROBLEMS, InvalidCursor),
)
async def list_moderation_queue(
    session: SessionDep,
    operator: OperatorReadDep,
    lang: LangDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> QueuePage:
    entries, next_cursor = await service.queue(session, cursor=cursor, limit=limit)
    return QueuePage(
        items=[
            QueueItem.of(e.report, e.queued, e.reasons, e.comments, lang)
            for e in entries
        ],
        next_cursor=next_cursor,
    )


# Hidden photos show faces and number plates: no cache keeps them.
OPERATOR_CACHE_CONTROL = "private, no-store"


@operator_router.get(
    "/photos/{photo_id}",
    summary="A report's photo, hidden or not",
    description="The photo as `GET /v1/photos/{photo_id}` gives it, also when the "
    "moderators hid it; never cached. `?size=thumb` gives the thumbnail.",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "The JPEG.",
        },
        304: {"description": "The copy named by `If-None-Match` is current."},
        307: {"description": "With presigned URLs on: the photo is at `Location`."},
        **problem_responses(*READ_PROBLEMS, PhotoNotFound, PhotoStoreUnavailable),
    },
)
async def read_operator_photo(
    request: Request,
    session: SessionDep,
    operator: OperatorReadDep,
    photos: PhotosDep,
    settings: SettingsDep,
    photo_id: uuid.UUID,
    size: Annotated[
        Literal["full", "thumb"],
        Query(description="`thumb` for the thumbnail."),
    ] = "full",
    if_none_match: Annotated[
        str | SkipJsonSchema[None],
        Header(description="ETag of a copy the client holds."),
    ] = None,
) -> Response:
    return await serve_photo(
        request,
        session,
        photos,
        settings,
        photo_id,
        size,
        if_none_match,
        hidden_too=True,
        cache_control=OPERATOR_CACHE_CONTROL,
    )
