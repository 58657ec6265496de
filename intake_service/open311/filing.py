"""`POST requests`: filing a service request as an Open311 client sends it (form-encoded or
multipart with photos), through the same checks and pipeline as the resident API.

Uploaded photos are checked with the request. A `media_url` is not fetched while the client
waits: its host may be slow, firewalled or gone, and the resident's report must not be lost
for it. The request is filed and answered at once with the link kept on the report, and the
fetch loop (`media_fetch`) brings the photo in (see `media_queue` for the hand-over to the
CRM meanwhile). Only a request without a position waits for its photo: its position is the
photo's.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import EmailStr, TypeAdapter, ValidationError
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from intake_service.categories import service as categories
from intake_service.config import Settings
from intake_service.deps import ServiceAreaDep, SettingsDep
from intake_service.idempotency import service as idempotency
from intake_service.open311 import openapi, service
from intake_service.open311.documents import Format, render_list
from intake_service.open311.exceptions import (
    AddressNeedsGeocoder,
    Open311Invalid,
    ServiceNotFound,
)
from intake_service.open311.form import SentForm, check_api_key
from intake_service.open311.media import fetch_media
from intake_service.open311.media_queue import (
    MAX_URL_LENGTH,
    links_with_report,
)
from intake_service.open311.params import (
    PREFIX,
    ROUTE_CLASS,
    FormatDep,
    Jurisdiction,
    LocaleDep,
    ensure_jurisdiction,
)
from intake_service.photos.dependencies import PhotosDep
from intake_service.photos.upload import Upload, too_many_photos
from intake_service.reports.filing import Submission, submit_report
from intake_service.reports.schemas import ReportCreate, ReportCreated
from shared.contracts import ReporterContact
from shared.deps import SessionDep
from shared.i18n import N_, Np_
from shared.routes import Router

router = Router(prefix=PREFIX, tags=["open311"], route_class=ROUTE_CLASS)


@router.post(
    "/requests.{fmt}",
    summary="File a service request",
    description=openapi.CREATE_REQUEST_DESCRIPTION,
    dependencies=[Jurisdiction],
    responses=openapi.CREATE_REQUEST_RESPONSES,
    response_class=Response,
    openapi_extra=openapi.CREATE_REQUEST_BODY,
)
async def create_request(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    area: ServiceAreaDep,
    photos: PhotosDep,
    fmt: FormatDep,
    lang: LocaleDep,
    idempotency_key: Annotated[
        str | SkipJsonSchema[None],
        Header(
            description="Makes retries safe, as on POST /v1/reports.",
            json_schema_extra={"pattern": idempotency.HEADER_PATTERN},
        ),
    ] = None,
) -> Response:
    async with request.form(
        max_files=settings.photo_max_count + 1, max_fields=200, max_part_size=64 * 1024
    ) as form:
        sent = SentForm.of(form)
        ensure_jurisdiction(settings, sent.text("jurisdiction_id"))
        await check_api_key(session, settings, sent.text("api_key"))
        data = await _report(session, sent)
        contact = _contact(sent.fields, lang)
        uploads = await _uploads(
            sent.files, settings.photo_max_count, settings.photo_max_bytes
        )
        links = _links(sent, settings) if not uploads else []
        # No transaction stays open while photos are fetched from elsewhere.
        await session.commit()
        try:
            if links and data.location is None:
                # The position is the photo's: without it there is no report to file.
                await _fetch_media(links, settings, into=uploads)
                links = []
            submission = Submission(
                data=data,
                reporter=None,
                lang=lang,
                uploads=uploads,
                idempotency_key=idempotency_key,
                contact=contact,
                channel=f"POST {PREFIX}/requests",
                source="open311",
                with_report=links_with_report(
                    links, wait=settings.open311_media_wait_seconds
                ),
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
            for upload in uploads:
                await upload.file.close()
    return _answer(submitted.report, settings, fmt, lang)


def _links(sent: SentForm, settings: Settings) -> list[str]:
    """The `media_url`s whose photos the report may have (as many as a report may hold),
    each fetched in the background: a link that is slow, gone or refused never costs the
    client its request."""
    for url in sent.media_urls:
        if len(url) > MAX_URL_LENGTH:
            raise Open311Invalid(
                Np_(
                    "{field}: at most {count} character.",
                    "{field}: at most {count} characters.",
                ),
                field="media_url",
                count=MAX_URL_LENGTH,
            )
    return sent.media_urls[: settings.photo_max_count]


async def _report(session: AsyncSession, sent: SentForm) -> ReportCreate:
    """The report the request describes, checked as the resident API checks it."""
    fields = sent.fields
    code = fields.get("service_code", "").strip()
    if not code:
        raise Open311Invalid(N_("{field}: required."), field="service_code")
    category = await categories.get_active(session, code)
    if category is None:
        raise ServiceNotFound(service_code=code)
    lat, lon = fields.get("lat", "").strip(), fields.get("long", "").strip()
    if bool(lat) != bool(lon):
        raise Open311Invalid(N_("lat and long: send both, or neither."))
    if not lat and (fields.get("address_string") or fields.get("address_id")):
        raise AddressNeedsGeocoder()
    report: dict[str, Any] = {
        "category": code,
        "description": fields.get("description", ""),
        "attributes": service.coerce_attributes(category.attributes, sent.attributes),
    }
    if lat:
        report["location"] = {
            "lat": _float(lat, "lat"),
            "lon": _float(lon, "long"),
        }
    try:
        return ReportCreate.model_validate(report)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> RequestValidationError:
    """The report's field errors, as the resident API gives them (see `_client_field`)."""
    return RequestValidationError(
        [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
    )


def _float(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise Open311Invalid(N_("{field}: a number is needed."), field=name) from None


def _contact(fields: Mapping[str, str], lang: str) -> ReporterContact | None:
    """Who to contact, for the city's CRM only, when the client sent an e-mail address."""
    email = fields.get("email", "").strip()
    if not email:
        return None
    name = " ".join(
        part
        for part in (fields.get("first_name", ""), fields.get("last_name", ""))
        if part
    ).strip()
    try:
        _EMAIL.validate_python(email)
    except ValidationError:
        raise Open311Invalid(N_("email: not an e-mail address.")) from None
    return ReporterContact(name=name[:100] or email[:100], email=email, lang=lang)


_EMAIL = TypeAdapter(EmailStr)


async def _uploads(
    files: list[UploadFile], max_count: int, max_bytes: int
) -> list[Upload]:
    if len(files) > max_count:
        raise too_many_photos(max_count)
    uploads = []
    for file in files:
        size = file.size or 0
        if size > max_bytes:
            raise Open311Invalid(
                N_("{field}: the photo is larger than {max_mb} MB."),
                field=file.filename or "media",
                max_mb=f"{max_bytes / (1024 * 1024):g}",
            )

        def digest(upload: UploadFile = file) -> str:
            upload.file.seek(0)
            sha256 = hashlib.sha256()
            while chunk := upload.file.read(1024 * 1024):
                sha256.update(chunk)
            return sha256.hexdigest()

        sha256 = await asyncio.to_thread(digest)
        uploads.append(
            Upload(filename=file.filename, file=file, size=size, sha256=sha256)
        )
    return uploads


async def _fetch_media(
    urls: list[str], settings: Settings, *, into: list[Upload]
) -> None:
    """Fetch the photos at `urls` (as many as a report may have) into `into`, one by one,
    so that the caller closes those fetched when a later one fails."""
    for url in urls[: settings.photo_max_count]:
        into.append(
            await fetch_media(
                url,
                max_bytes=settings.photo_max_bytes,
                seconds=settings.open311_media_timeout_seconds,
                allow_private=settings.open311_media_allow_private_hosts,
            )
        )


def _answer(
    report: ReportCreated, settings: Settings, fmt: Format, lang: str
) -> Response:
    """The request's id (or its token, for `batch`) and its `service_notice`."""
    notice = service.expected_notice_at(report.expected_resolution_at, lang)
    duplicates = [near.number for near in report.possible_duplicates]
    if duplicates:
        notice += " " + service.duplicates_notice(duplicates, lang)
    if settings.open311_service_type == "batch":
        answer: dict[str, Any] = {"token": str(report.id), "service_notice": notice}
    else:
        answer = {"service_request_id": report.number, "service_notice": notice}
    return render_list(fmt, "service_requests", "request", [answer])
