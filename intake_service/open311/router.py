"""`/open311/v2/…`: the Open311 GeoReport v2 server (with the mySociety update feed).

Every resource answers in XML (`.xml`, what CRM-side clients speak) and JSON (`.json`, bare
arrays); errors are Open311 `errors` in the same format, with 400, 403 or 404.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import EmailStr, TypeAdapter, ValidationError
from pydantic.json_schema import SkipJsonSchema
from starlette.datastructures import UploadFile

from intake_service.categories import service as categories
from intake_service.deps import ServiceAreaDep, SettingsDep
from intake_service.idempotency import service as idempotency
from intake_service.open311 import service
from intake_service.open311.documents import (
    JSON_TYPE,
    XML_TYPE,
    Format,
    render_errors,
    render_list,
    render_object,
)
from intake_service.open311.media import fetch_media
from intake_service.open311.models import OPEN311_KEYS
from intake_service.photos.dependencies import PhotosDep
from intake_service.photos.upload import Upload, too_many_photos
from intake_service.reports import service as reports
from intake_service.reports.schemas import ReportCreate
from shared.contracts import ReporterContact
from shared.deps import SessionDep
from shared.errors import AppError
from shared.i18n import N_, negotiate, translate
from shared.operators import hash_key
from shared.w3c import parse_w3c

PREFIX = "/open311/v2"

router = APIRouter(prefix=PREFIX, tags=["open311"])


class JurisdictionNotFound(AppError):
    status_code = 404
    code = "open311-jurisdiction-not-found"
    title = N_("Unknown jurisdiction")
    detail = N_("This server serves the jurisdiction '{jurisdiction}' only.")


class ServiceNotFound(AppError):
    status_code = 404
    code = "open311-service-not-found"
    title = N_("Unknown service")
    detail = N_("There is no active service '{service_code}'. GET services lists them.")


class RequestNotFound(AppError):
    status_code = 404
    code = "open311-request-not-found"
    title = N_("Unknown service request")
    detail = N_("There is no service request '{service_request_id}'.")


class TokenNotFound(AppError):
    status_code = 404
    code = "open311-token-not-found"
    title = N_("Unknown token")
    detail = N_("There is no token '{token}'.")


class ApiKeyRequired(AppError):
    status_code = 403
    code = "open311-api-key"
    title = N_("API key required")
    detail = N_(
        "Filing a request needs a valid api_key. The city's IT team gives one to each "
        "client."
    )


class Open311Invalid(AppError):
    """A parameter is missing or wrong; `reason` (a message id) says which and why."""

    status_code = 400
    code = "open311-invalid"
    title = N_("The request cannot be fulfilled")
    detail = None

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(**params)
        self.reason = reason

    def body(self, lang: str) -> dict[str, Any]:
        body = super().body(lang)
        body["detail"] = translate(self.reason, lang, **self.params)
        return body


# --- errors in Open311 form ---------------------------------------------------------------


def _status(status: int, body: Mapping[str, Any]) -> int:
    """Open311's statuses: 403 for keys, 404 for what is not there, 400 for the rest."""
    if status in (401, 403):
        return 403
    if status == 422 and any(
        error.get("in") == "path" for error in body.get("errors", [])
    ):
        return 404  # e.g. a format other than .xml and .json
    if status in (404, 405, 429) or status >= 500:
        return status
    return 400


def _client_field(field: str) -> str:
    """A report field under the name an Open311 client sent it by."""
    if field.startswith("attributes."):
        return f"attribute[{field.removeprefix('attributes.')}]"
    return {"location.lat": "lat", "location.lon": "long"}.get(field, field)


def render_error(
    request: Request, status: int, body: dict[str, Any], headers: Mapping[str, str]
) -> Response:
    """Any error under `/open311/` as Open311 `errors`, in the format the path asks for."""
    fmt: Format = "json" if request.url.path.endswith(".json") else "xml"
    status = _status(status, body)
    description = str(body.get("detail") or body.get("title") or "")
    errors = [(status, description)]
    for error in body.get("errors", []):
        field = _client_field(str(error.get("field", "")))
        errors.append((status, f"{field}: {error.get('message', '')}"))
    response = render_errors(fmt, status, errors)
    for name, value in headers.items():
        response.headers[name] = value
    return response


# --- OpenAPI -------------------------------------------------------------------------------

_ERROR_EXAMPLE_XML = (
    '<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>404</code>'
    "<description>There is no service request 'WRO-2026-999999'.</description></error>"
    "</errors>"
)
_ERROR_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "code": {"type": "integer"},
            "description": {"type": "string"},
        },
    },
}


def _documented(
    example_xml: str, example_json: Any, *errors: int
) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {
        200: {
            "description": "The document, in the format the suffix names.",
            "content": {
                XML_TYPE.split(";")[0]: {
                    "schema": {"type": "string"},
                    "example": example_xml,
                },
                JSON_TYPE.split(";")[0]: {"example": example_json},
            },
        }
    }
    texts = {
        400: "The request cannot be fulfilled (a parameter is missing or wrong, or the "
        "address holds a NUL character).",
        403: "`api_key` missing or wrong.",
        404: "No such service, request, token or jurisdiction (or format).",
        500: "Something failed on our side; nothing was half-stored.",
    }
    # A NUL in the address is a 400 on every operation (`NulGuardMiddleware`).
    for status in (*errors, 400, 404, 500):
        responses[status] = {
            "description": texts[status],
            "content": {
                XML_TYPE.split(";")[0]: {
                    "schema": {"type": "string"},
                    "example": _ERROR_EXAMPLE_XML,
                },
                JSON_TYPE.split(";")[0]: {
                    "schema": _ERROR_SCHEMA,
                    "example": [
                        {
                            "code": 404,
                            "description": "There is no service request "
                            "'WRO-2026-999999'.",
                        }
                    ],
                },
            },
        }
    return responses


FormatDep = Annotated[
    Format,
    Path(description="`xml` (what CRM-side clients speak) or `json` (bare arrays)."),
]


async def get_lang(
    locale: Annotated[
        str | None,
        Query(
            description="Language of names and texts (`pl`, `en`, `de`); overrides "
            "Accept-Language."
        ),
    ] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    return negotiate(accept_language, locale)


LocaleDep = Annotated[str, Depends(get_lang)]


async def check_jurisdiction(
    settings: SettingsDep,
    jurisdiction_id: Annotated[
        str | None,
        Query(
            description="May be left out; another jurisdiction than ours is a 404.",
            examples=["wroclaw.pl"],
        ),
    ] = None,
) -> None:
    if jurisdiction_id and jurisdiction_id != settings.open311_jurisdiction_id:
        raise JurisdictionNotFound(jurisdiction=settings.open311_jurisdiction_id)


Jurisdiction = Depends(check_jurisdiction)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# --- discovery and services ----------------------------------------------------------------


@router.get(
    "/discovery.{fmt}",
    summary="Service discovery",
    description="Where this GeoReport v2 endpoint is, its formats and its contact.",
    responses=_documented(
        "<discovery><changeset>…</changeset><endpoints><endpoint>…</endpoint></endpoints>"
        "</discovery>",
        {"changeset": "2026-12-01T00:00:00Z", "endpoints": []},
    ),
    response_class=Response,
)
async def discovery(
    request: Request, fmt: FormatDep, settings: SettingsDep
) -> Response:
    changeset = "2026-12-01T00:00:00Z"
    return render_object(
        fmt,
        "discovery",
        {
            "changeset": changeset,
            "contact": f"{settings.city_name}: {_base_url(request)}/docs",
            "key_service": "python -m intake_service open311-key create --name CLIENT",
            "endpoints": [
                {
                    "specification": service.SPECIFICATION,
                    "url": _base_url(request) + PREFIX,
                    "changeset": changeset,
                    "type": "production",
                    "formats": service.FORMATS,
                }
            ],
        },
    )


@router.get(
    "/services.{fmt}",
    summary="Services (report categories)",
    description="The active categories as Open311 services, names in the language of "
    "`locale` or Accept-Language. `metadata` is true where the category has attributes "
    "(see the service definition).",
    dependencies=[Jurisdiction],
    responses=_documented(
        "<services><service><service_code>pothole</service_code><service_name>Pothole"
        "</service_name>…</service></services>",
        [
            {
                "service_code": "pothole",
                "service_name": "Pothole",
                "description": "Pothole",
                "metadata": False,
                "type": "realtime",
                "keywords": "Roads and street furniture, zdium",
                "group": "Roads and street furniture",
            }
        ],
    ),
    response_class=Response,
)
async def list_services(
    session: SessionDep, fmt: FormatDep, lang: LocaleDep, settings: SettingsDep
) -> Response:
    active = await categories.list_active(session)
    return render_list(
        fmt,
        "services",
        "service",
        [service.service(c, lang, settings.open311_service_type) for c in active],
    )


@router.get(
    "/services/{service_code}.{fmt}",
    summary="Service definition",
    description="The attributes a request of this service carries (`attribute[CODE]`).",
    dependencies=[Jurisdiction],
    responses=_documented(
        "<service_definition><service_code>street_light_out</service_code><attributes>"
        "<attribute><variable>true</variable><code>lamp_post_number</code>…</attribute>"
        "</attributes></service_definition>",
        {
            "service_code": "street_light_out",
            "attributes": [
                {
                    "variable": True,
                    "code": "lamp_post_number",
                    "datatype": "string",
                    "required": False,
                    "order": 1,
                    "description": "Lamp-post number",
                }
            ],
        },
    ),
    response_class=Response,
)
async def service_definition(
    session: SessionDep,
    fmt: FormatDep,
    lang: LocaleDep,
    service_code: Annotated[str, Path(description="A service's `service_code`.")],
) -> Response:
    category = await categories.get_active(session, service_code)
    if category is None:
        raise ServiceNotFound(service_code=service_code)
    return render_object(
        fmt, "service_definition", service.service_definition(category, lang)
    )


# --- requests ------------------------------------------------------------------------------


async def _check_api_key(session: SessionDep, settings: SettingsDep, key: str) -> str:
    """The client's name for a valid `api_key`; 403 otherwise."""
    if not key:
        raise ApiKeyRequired()
    client = await OPEN311_KEYS.keys(session, settings.open311_api_keys).find(
        hash_key(key)
    )
    if client is None:
        raise ApiKeyRequired()
    return client.name


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


@router.post(
    "/requests.{fmt}",
    summary="File a service request",
    description="Form-encoded (`application/x-www-form-urlencoded`) or `multipart/form-data` "
    "with photos (any file fields: `media`, `media[]`, `photo1`…), as GeoReport v2 and its "
    "clients send it: `api_key` (required), `service_code`, `lat` + `long`, `description`, "
    "`attribute[CODE]` / `attribute[CODE][]`, `media_url` (fetched and checked like an "
    "upload), and optionally `email`, `first_name`, `last_name` (passed to the city's CRM "
    "for follow-up, never shown publicly). The request goes through the same checks and "
    "pipeline as the resident API. Answers the request's id (`realtime`) or a `token` "
    "(`batch`), and a `service_notice` with the expected resolution time and any similar "
    "open reports nearby.",
    dependencies=[Jurisdiction],
    responses=_documented(
        "<service_requests><request><service_request_id>WRO-2026-000042"
        "</service_request_id><service_notice>Expected to be dealt with by …"
        "</service_notice></request></service_requests>",
        [
            {
                "service_request_id": "WRO-2026-000042",
                "service_notice": "Expected to be dealt with by 2026-12-08 10:00 UTC.",
            }
        ],
        400,
        403,
    ),
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        # A report needs a description (GeoReport v2 leaves it out).
                        "required": ["api_key", "service_code", "description"],
                        "properties": {
                            "api_key": {"type": "string"},
                            "jurisdiction_id": {"type": "string"},
                            "service_code": {"type": "string"},
                            "lat": {"type": "number"},
                            "long": {"type": "number"},
                            "description": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 2000,
                            },
                            "email": {"type": "string"},
                            "first_name": {"type": "string"},
                            "last_name": {"type": "string"},
                            "media_url": {"type": "string"},
                        },
                        "additionalProperties": {"type": "string"},
                    },
                    "example": {
                        "api_key": "mam_op_…",
                        "service_code": "pothole",
                        "lat": 51.1097,
                        "long": 17.0326,
                        "description": "Deep pothole on the right lane",
                    },
                },
                "multipart/form-data": {
                    "schema": {"type": "object", "additionalProperties": True}
                },
            },
        }
    },
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
        fields: dict[str, str] = {}
        attributes: dict[str, list[str]] = {}
        media_urls: list[str] = []
        files: list[UploadFile] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.append(value)
                continue
            if name.startswith("attribute[") and "]" in name:
                code = name[len("attribute[") : name.index("]")]
                attributes.setdefault(code, []).append(value)
            elif name in ("media_url", "media_url[]"):
                if value.strip():
                    media_urls.append(value.strip())
            else:
                fields.setdefault(name, value)
        jurisdiction = fields.get("jurisdiction_id", "")
        if jurisdiction and jurisdiction != settings.open311_jurisdiction_id:
            raise JurisdictionNotFound(jurisdiction=settings.open311_jurisdiction_id)
        await _check_api_key(session, settings, fields.get("api_key", "").strip())
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
            "attributes": service.coerce_attributes(category.attributes, attributes),
        }
        if lat:
            report["location"] = {
                "lat": _float(lat, "lat"),
                "lon": _float(lon, "long"),
            }
        try:
            data = ReportCreate.model_validate(report)
        except ValidationError as exc:
            raise _invalid(exc) from None
        contact = _contact(fields, lang)
        uploads = await _uploads(
            files, settings.photo_max_count, settings.photo_max_bytes
        )
        # No transaction stays open while photos are fetched from elsewhere.
        await session.commit()
        try:
            if not uploads:
                for url in media_urls[: settings.photo_max_count]:
                    uploads.append(
                        await fetch_media(
                            url,
                            max_bytes=settings.photo_max_bytes,
                            seconds=settings.open311_media_timeout_seconds,
                            allow_private=settings.open311_media_allow_private_hosts,
                        )
                    )
            submitted = await reports.submit_report(
                session,
                data=data,
                uploads=uploads,
                photos=photos,
                reporter=None,
                number_prefix=settings.report_number_prefix,
                area=area,
                lang=lang,
                idempotency_key=idempotency_key,
                contact=contact,
                channel=f"POST {PREFIX}/requests",
            )
        finally:
            for upload in uploads:
                await upload.file.close()
    body = submitted.body
    notice = service.expected_notice_at(body["expected_resolution_at"], lang)
    duplicates = [d["number"] for d in body.get("possible_duplicates", [])]
    if duplicates:
        notice += " " + service.duplicates_notice(duplicates, lang)
    if settings.open311_service_type == "batch":
        answer: dict[str, Any] = {"token": body["id"], "service_notice": notice}
    else:
        answer = {"service_request_id": body["number"], "service_notice": notice}
    return render_list(fmt, "service_requests", "request", [answer])


class AddressNeedsGeocoder(AppError):
    status_code = 400
    code = "open311-no-geocoder"
    title = N_("Address not supported")
    detail = N_(
        "This server cannot look up addresses (address_string, address_id): send the "
        "position as lat and long."
    )


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


# --- reading requests ----------------------------------------------------------------------

_REQUEST_EXAMPLE_JSON = [
    {
        "service_request_id": "WRO-2026-000042",
        "status": "open",
        "status_notes": "Ekipa w drodze",
        "service_name": "Pothole",
        "service_code": "pothole",
        "description": "Deep pothole on the right lane",
        "agency_responsible": "Roads and City Maintenance Board",
        "service_notice": "Expected to be dealt with by 2026-12-08 10:00 UTC.",
        "requested_datetime": "2026-12-01T10:00:00Z",
        "updated_datetime": "2026-12-01T11:30:00Z",
        "expected_datetime": "2026-12-08T10:00:00Z",
        "lat": 51.1097,
        "long": 17.0326,
        "media_url": "https://mam.example/v1/photos/5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10",
    }
]
_REQUEST_EXAMPLE_XML = (
    "<service_requests><request><service_request_id>WRO-2026-000042"
    "</service_request_id><status>open</status>…</request></service_requests>"
)


def _date(value: str | None, name: str) -> dt.datetime | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_w3c(value)
    except ValueError:
        raise Open311Invalid(
            N_(
                "{field}: a W3C date-time with its zone is needed, e.g. "
                "2026-12-01T10:00:00Z or 2026-12-01T11:00:00+01:00."
            ),
            field=name,
        ) from None


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@router.get(
    "/requests.{fmt}",
    summary="Find service requests",
    description="Requests newest first. `service_request_id` (a comma list) overrides the "
    "other filters; otherwise `service_code` (comma list), `start_date` / `end_date` (W3C "
    "date-times with `Z` or an offset, on `requested_datetime`; at most 90 days apart, the "
    "last 90 days by default) and `status` (`open`, `closed`). Pages: `page` (from 1) and "
    "`page_size` (at most 1000). Never the reporter's identity.",
    dependencies=[Jurisdiction],
    responses=_documented(_REQUEST_EXAMPLE_XML, _REQUEST_EXAMPLE_JSON, 400),
    response_class=Response,
)
async def list_requests(
    request: Request,
    session: SessionDep,
    fmt: FormatDep,
    lang: LocaleDep,
    service_request_id: Annotated[
        str | None,
        Query(description="Comma list of ids.", examples=["WRO-2026-000042"]),
    ] = None,
    service_code: Annotated[str | None, Query(description="Comma list.")] = None,
    start_date: Annotated[
        str | None,
        Query(description="W3C date-time.", examples=["2026-11-01T00:00:00Z"]),
    ] = None,
    end_date: Annotated[
        str | None,
        Query(description="W3C date-time.", examples=["2026-12-01T00:00:00+01:00"]),
    ] = None,
    status: Annotated[
        str | None, Query(description="`open`, `closed` or both (comma list).")
    ] = None,
    page: Annotated[str | None, Query(description="Page number, from 1.")] = None,
    page_size: Annotated[
        str | None, Query(description="Requests per page, 1 to 1000 (1000 by default).")
    ] = None,
) -> Response:
    start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
    if start and end and end < start:
        raise Open311Invalid(N_("end_date: before start_date."))
    if start and end and end - start > dt.timedelta(days=service.MAX_DAYS):
        raise Open311Invalid(N_("start_date, end_date: at most 90 days apart."))
    statuses = _list(status)
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Invalid(N_("status: open, closed, or both."))
    query = service.RequestQuery(
        numbers=_list(service_request_id),
        service_codes=_list(service_code),
        start=start,
        end=end,
        statuses=statuses,
        page=_number(page, "page", default=1, maximum=None),
        page_size=_number(page_size, "page_size", default=1000, maximum=1000),
    )
    found = await service.find_requests(session, query)
    base = _base_url(request)
    return render_list(
        fmt,
        "service_requests",
        "request",
        [service.request_record(report, lang, base) for report in found],
    )


def _number(value: str | None, name: str, *, default: int, maximum: int | None) -> int:
    if value is None or not value.strip():
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise Open311Invalid(N_("{field}: a whole number from 1."), field=name)
    number = int(value)
    if maximum is not None and number > maximum:
        raise Open311Invalid(
            N_("{field}: at most {maximum}."), field=name, maximum=maximum
        )
    return number


@router.get(
    "/requests/{service_request_id}.{fmt}",
    summary="One service request",
    description="A list of one request (clients read `[0]`); 404 for an unknown id.",
    dependencies=[Jurisdiction],
    responses=_documented(_REQUEST_EXAMPLE_XML, _REQUEST_EXAMPLE_JSON),
    response_class=Response,
)
async def read_request(
    request: Request,
    session: SessionDep,
    fmt: FormatDep,
    lang: LocaleDep,
    service_request_id: Annotated[
        str, Path(description="The request's id.", examples=["WRO-2026-000042"])
    ],
) -> Response:
    report = await service.report_by_number(session, service_request_id)
    if report is None:
        raise RequestNotFound(service_request_id=service_request_id)
    record = service.request_record(report, lang, _base_url(request))
    return render_list(fmt, "service_requests", "request", [record])


@router.get(
    "/tokens/{token}.{fmt}",
    summary="The request of a token",
    description="After a `batch` POST: the token with its `service_request_id` once the "
    "city's CRM has taken the request (until then the token alone).",
    dependencies=[Jurisdiction],
    responses=_documented(
        "<service_requests><request><service_request_id>WRO-2026-000042"
        "</service_request_id><token>0b9d5c1e-…</token></request></service_requests>",
        [
            {
                "service_request_id": "WRO-2026-000042",
                "token": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
            }
        ],
    ),
    response_class=Response,
)
async def read_token(
    session: SessionDep,
    fmt: FormatDep,
    token: Annotated[str, Path(description="The token a POST answered.")],
) -> Response:
    report = await service.report_by_token(session, token)
    if report is None:
        raise TokenNotFound(token=token)
    answer: dict[str, Any] = {"token": token}
    if report.crm_case_id is not None or report.unit_code is not None:
        answer = {"service_request_id": report.number, "token": token}
    return render_list(fmt, "service_requests", "request", [answer])


@router.get(
    "/servicerequestupdates.{fmt}",
    summary="Status updates (mySociety extension)",
    description="Every status change in the window (`start_date` / `end_date`, W3C; the "
    "last 24 hours by default), oldest first, as `request_update`s: `update_id`, "
    "`service_request_id`, `status` (`open`, `in_progress`, `fixed`, `closed`, `reopen`), "
    "`updated_datetime`, `description` (the unit's note) and `external_status_code` (our "
    "status). Clients follow requests by reading it periodically.",
    dependencies=[Jurisdiction],
    responses=_documented(
        "<service_request_updates><request_update><update_id>17</update_id>…"
        "</request_update></service_request_updates>",
        [
            {
                "update_id": "17",
                "service_request_id": "WRO-2026-000042",
                "status": "in_progress",
                "updated_datetime": "2026-12-01T11:30:00Z",
                "description": "Ekipa w drodze",
                "external_status_code": "in_progress",
                "media_url": "",
            }
        ],
        400,
    ),
    response_class=Response,
)
async def list_updates(
    session: SessionDep,
    fmt: FormatDep,
    start_date: Annotated[str | None, Query(description="W3C date-time.")] = None,
    end_date: Annotated[str | None, Query(description="W3C date-time.")] = None,
    api_key: Annotated[
        str | None, Query(description="Accepted and not needed (reads are open).")
    ] = None,
) -> Response:
    start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
    if start and end and end < start:
        raise Open311Invalid(N_("end_date: before start_date."))
    rows = await service.find_updates(session, start=start, end=end, limit=1000)
    return render_list(
        fmt,
        "service_request_updates",
        "request_update",
        [service.update_record(change, report) for change, report in rows],
    )
