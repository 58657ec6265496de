"""POST /v1/reports and GET /v1/reports/{id}."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic.json_schema import SkipJsonSchema

from intake_service.accounts.dependencies import (
    OPTIONAL_AUTH,
    AccountDep,
    OptionalAccountDep,
)
from intake_service.area.exceptions import OutsideServiceArea
from intake_service.deps import ClientDep, LangDep, ServiceAreaDep, SettingsDep
from intake_service.devices import DeviceIdRequired
from intake_service.idempotency import service as idempotency
from intake_service.idempotency.exceptions import (
    IdempotencyKeyReused,
    IdempotentRequestInProgress,
    InvalidIdempotencyKey,
)
from intake_service.photos.dependencies import PhotosDep
from intake_service.photos.exceptions import (
    DamagedPhoto,
    PhotoTooLarge,
    UnsupportedPhotoType,
)
from intake_service.photos.upload import MalformedForm, PhotoFileTooLarge
from intake_service.reports import openapi, service
from intake_service.reports.delays import delays_of
from intake_service.reports.exceptions import (
    InvalidBox,
    InvalidStatus,
    ReportClosed,
    ReportNotFound,
    UnknownCategory,
)
from intake_service.reports.filing import Submission, submit_report
from intake_service.reports.form import (
    UnsupportedMediaType,
    parse_report,
    read_report_request,
    report_request_body,
)
from intake_service.reports.geojson import GEOJSON, feature_collection
from intake_service.reports.geojson_schemas import (
    FEATURE_COLLECTION_EXAMPLE,
    ReportFeatureCollection,
)
from intake_service.reports.schemas import (
    MyReportPage,
    MyReportRead,
    MyReportUpdate,
    NearbyReport,
    ReportCreate,
    ReportCreated,
    ReportPage,
    ReportRead,
    ReportSummary,
    SupportRead,
)
from intake_service.throttling.exceptions import TooManyWrites, throttled_responses
from intake_service.write_limits import Writes, admit, limited, photo_limits
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses
from shared.pagination import InvalidCursor
from shared.params import Timestamp
from shared.response_docs import document_body, document_model
from shared.routes import Router

router = Router(prefix="/v1/reports", tags=["reports"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportCreated,
    summary="File a report",
    description=openapi.CREATE_DESCRIPTION,
    responses={
        201: {
            "headers": {
                "Idempotent-Replayed": {
                    "description": "`true` on a replay; left out otherwise.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            }
        },
        **throttled_responses(
            MalformedForm,
            InvalidIdempotencyKey,
            NotAuthenticated,
            IdempotentRequestInProgress,
            PhotoFileTooLarge,
            413,
            UnsupportedMediaType,
            UnsupportedPhotoType,
            ValidationFailed,
            UnknownCategory,
            OutsideServiceArea,
            DamagedPhoto,
            PhotoTooLarge,
            IdempotencyKeyReused,
            too_many=TooManyWrites,
        ),
    },
    dependencies=[limited(Writes.REPORTS)],
    openapi_extra={"requestBody": report_request_body(), **OPTIONAL_AUTH},
)
async def create_report(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    area: ServiceAreaDep,
    photos: PhotosDep,
    lang: LangDep,
    account: OptionalAccountDep,
    client: ClientDep,
    idempotency_key: Annotated[
        str | SkipJsonSchema[None],
        Header(
            description="Makes retries safe (draft-ietf-httpapi-idempotency-key-header): "
            "16 to 255 of `A-Za-z0-9_-`, new for each report.",
            examples=["0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10"],
            # Documented, and checked by the service (another key is a 400, not a 422).
            json_schema_extra={"pattern": idempotency.HEADER_PATTERN},
        ),
    ] = None,
) -> JSONResponse:
    form = await read_report_request(
        request,
        max_photos=settings.photo_max_count,
        max_photo_bytes=settings.photo_max_bytes,
    )
    try:
        if form.photos:
            await admit(
                session,
                photo_limits(settings, client, account),
                amount=len(form.photos),
            )
        data = parse_report(form)
        submission = Submission(
            data=data,
            reporter=account,
            lang=lang,
            uploads=form.photos,
            idempotency_key=idempotency_key,
        )
        submitted = await submit_report(
            session,
            submission,
            photos=photos,
            area=area,
            number_prefix=settings.report_number_prefix,
            calendar=settings.calendar,
        )
    finally:
        await form.close()
    headers = {"Idempotent-Replayed": "true"} if submitted.replayed else {}
    return JSONResponse(
        submitted.report.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        headers=headers,
    )


@router.get(
    "",
    response_model=ReportPage,
    summary="List reports (JSON or GeoJSON for maps)",
    description="Public reports, newest first, filtered by a map box, categories, statuses and "
    "last change. Pages are keyset-based: pass `next_cursor` back as `cursor` (it stays stable "
    "while new reports arrive). With `Accept: application/geo+json` the page is a GeoJSON "
    "FeatureCollection of points (with `next_cursor` as a member). Never includes reporters.",
    responses={
        200: {"content": {GEOJSON: {"example": FEATURE_COLLECTION_EXAMPLE}}},
        **problem_responses(ValidationFailed, InvalidBox, InvalidStatus, InvalidCursor),
    },
)
async def list_reports(
    request: Request,
    session: SessionDep,
    lang: LangDep,
    bbox: Annotated[
        str | None,
        Query(
            min_length=1,
            description="Map box `min_lon,min_lat,max_lon,max_lat` (WGS 84).",
            examples=["16.98,51.09,17.08,51.13"],
        ),
    ] = None,
    category: Annotated[
        list[str] | None,
        Query(
            description="Category codes (repeat, or separate by commas).",
            examples=[["pothole", "street_light_out"]],
        ),
    ] = None,
    status_: Annotated[
        list[str] | None,
        Query(
            alias="status",
            description="Statuses (repeat; a comma list is taken too).",
            examples=[["received", "in_progress"]],
            json_schema_extra={"items": {"$ref": "#/components/schemas/ReportStatus"}},
        ),
    ] = None,
    since: Annotated[
        Timestamp | None,
        Query(
            description="Only reports changed at or after this time (with offset or Z)."
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> Response:
    reports, next_cursor = await service.list_reports(
        session,
        bbox=bbox,
        category_codes=category or [],
        statuses=status_ or [],
        since=since,
        cursor=cursor,
        limit=limit,
    )
    items = [ReportSummary.listed(report, lang) for report in reports]
    if GEOJSON in request.headers.get("accept", ""):
        return JSONResponse(feature_collection(items, next_cursor), media_type=GEOJSON)
    page = ReportPage(items=items, next_cursor=next_cursor)
    return Response(page.model_dump_json(), media_type="application/json")


document_model(router, create_report, ReportCreate)
document_body(
    router,
    list_reports,
    status=200,
    media_type=GEOJSON,
    model=ReportFeatureCollection,
)


@router.get(
    "/nearby",
    summary="Open reports near a position",
    description=openapi.NEARBY_DESCRIPTION,
    responses=problem_responses(ValidationFailed, UnknownCategory),
)
async def list_nearby_reports(
    session: SessionDep,
    lang: LangDep,
    lat: Annotated[float, Query(ge=-90, le=90, examples=[51.1097])],
    lon: Annotated[float, Query(ge=-180, le=180, examples=[17.0326])],
    category: Annotated[str, Query(min_length=1, max_length=50, examples=["pothole"])],
) -> list[NearbyReport]:
    found = await service.nearby(session, category_code=category, lat=lat, lon=lon)
    return [NearbyReport.of(near, lang) for near in found]


@router.post(
    "/{report_id}/supporters",
    response_model=SupportRead,
    summary='Say "me too"',
    description="Supports an open report instead of filing the same problem again. It counts "
    "once per account, or once per device (`X-Device-Id`, the app's install id) for a resident "
    "who is not signed in; a signed-in supporter is then told about every status change like "
    "the reporter, once their e-mail address is verified. 201 when counted now, 200 when it was counted before."
    "Limited per client address, account or device (429 with `Retry-After`).",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "Counted before; nothing changed.", "model": SupportRead},
        **throttled_responses(
            DeviceIdRequired,
            NotAuthenticated,
            ReportNotFound,
            ReportClosed,
            ValidationFailed,
            too_many=TooManyWrites,
        ),
    },
    dependencies=[limited(Writes.OTHER)],
    openapi_extra=OPTIONAL_AUTH,
)
async def support_report(
    session: SessionDep,
    account: OptionalAccountDep,
    report_id: uuid.UUID,
    x_device_id: Annotated[
        str | SkipJsonSchema[None],
        Header(
            description="The app's install id; needed when not signed in.",
            examples=["3b1f2c9e-7d7a-4f0e-9c55-0e1c5a0b2d11"],
        ),
    ] = None,
) -> JSONResponse:
    report, counted = await service.support_report(
        session, report_id=report_id, account=account, device_id=x_device_id
    )
    answer = SupportRead(
        report_id=report.id,
        supporters=report.supporters_count,
        counted=counted,
        subscribed=account is not None,
    )
    return JSONResponse(
        answer.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if counted else status.HTTP_200_OK,
    )


@router.get(
    "/{report_id}",
    summary="Read a report",
    description="The public view of a report with its status history. It never includes who "
    "filed it, nor what the city's moderators hid: a hidden description reads as a notice "
    "(`description_hidden`), a hidden photo is not listed. Anyone may flag the report to "
    "the moderators with `POST /v1/reports/{report_id}/abuse`.",
    responses=problem_responses(ReportNotFound, ValidationFailed),
)
async def read_report(
    session: SessionDep, lang: LangDep, settings: SettingsDep, report_id: uuid.UUID
) -> ReportRead:
    report = await service.get_report(session, report_id)
    delays = await delays_of(
        session, [report], notice_minutes=settings.delay_notice_minutes
    )
    return ReportRead.of(report, lang, delay=delays.get(report.id))


me_router = Router(prefix="/v1/me", tags=["me"])


@me_router.get(
    "/reports",
    summary="My reports",
    description="The signed-in resident's own reports, newest first, in full detail with "
    "their status history; keyset pages as in `GET /v1/reports`.",
    responses=problem_responses(NotAuthenticated, ValidationFailed, InvalidCursor),
)
async def list_my_reports(
    session: SessionDep,
    account: AccountDep,
    lang: LangDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> MyReportPage:
    reports, next_cursor = await service.list_own_reports(
        session, reporter=account, cursor=cursor, limit=limit
    )
    delays = await delays_of(
        session, reports, notice_minutes=settings.delay_notice_minutes
    )
    return MyReportPage(
        items=[MyReportRead.of(r, lang, delay=delays.get(r.id)) for r in reports],
        next_cursor=next_cursor,
    )


@me_router.patch(
    "/reports/{report_id}",
    summary="Change my report's settings",
    description="Shows or hides the resident's display name on one of their own reports. "
    "Another resident's report is a 404, as if it did not exist.",
    responses=problem_responses(NotAuthenticated, ReportNotFound, ValidationFailed),
)
async def update_my_report(
    session: SessionDep,
    account: AccountDep,
    lang: LangDep,
    settings: SettingsDep,
    report_id: uuid.UUID,
    change: MyReportUpdate,
) -> MyReportRead:
    report = await service.set_show_name(
        session, report_id=report_id, reporter=account, show_name=change.show_name
    )
    delays = await delays_of(
        session, [report], notice_minutes=settings.delay_notice_minutes
    )
    return MyReportRead.of(report, lang, delay=delays.get(report.id))
