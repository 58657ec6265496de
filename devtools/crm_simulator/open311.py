"""The simulator's Open311 GeoReport v2 side (with mySociety's `servicerequestupdates`),
over the same cases as its REST API: a request made here is a case there, and vice versa.

Every resource answers as `.xml` and `.json` (bare arrays), errors as Open311 errors with
400/403/404. Statuses are the core `open`/`closed`, with mySociety's extended status in the
update feed and the case's own code (`NEW`, `IN_PROGRESS`, …) as `external_status_code`.
Requests are realtime (POST answers the id) or, in batch mode, answered with a token that
resolves once its delay has passed (or when a test releases it).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from devtools.crm_simulator.config import Settings
from devtools.crm_simulator.open311_format import (
    JURISDICTION,
    MEDIA_TYPES,
    Open311Error,
    error,
    field,
    format_parameter,
    operation,
    parse_date,
    path_parameter,
    query_parameter,
    render,
)
from shared.w3c import format_w3c

if TYPE_CHECKING:
    from devtools.crm_simulator.app import Case, CaseCreate, CaseStatus, Store

PREFIX = "/open311/v2"
SPEC = "http://wiki.open311.org/GeoReport_v2"
CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,50}$")
ATTRIBUTE = re.compile(r"attribute\[([^\]]+)\](\[\])?")
REQUESTS_LIMIT = 1000
DEFAULT_WINDOW = dt.timedelta(days=90)

CLOSED = {"DONE", "NOT_CITY_MATTER", "DUPLICATE", "CANNOT_FIX"}
EXTENDED = {
    "NEW": "open",
    "ASSIGNED": "investigating",
    "IN_PROGRESS": "in_progress",
    "SCHEDULED": "action_scheduled",
    "DONE": "fixed",
    "NOT_CITY_MATTER": "not_councils_responsibility",
    "DUPLICATE": "duplicate",
    "CANNOT_FIX": "no_further_action",
    "REOPENED": "reopen",
}
"""The simulator's codes as mySociety's extended statuses (the update feed)."""

SetStatus = Callable[["Request", "Case", "CaseStatus", "str | None"], None]


class Mode(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"batch": True, "token_delay_seconds": 0.5}]},
    )

    batch: StrictBool = Field(
        description="POST requests answers a token instead of an id."
    )
    token_delay_seconds: StrictFloat | None = Field(
        default=1.0,
        ge=0,
        description="How long a token stays unresolved; null: until released by hand.",
    )


XML = '<?xml version="1.0" encoding="utf-8"?>'
REQUEST_ID = path_parameter("request_id", "The service request's id.", "CRM-000042")
DATES = [
    query_parameter(
        "start_date",
        "W3C date-time with a time zone: from this moment on.",
        "2026-11-01T00:00:00Z",
        format="date-time",
    ),
    query_parameter(
        "end_date",
        "W3C date-time with a time zone: up to this moment.",
        "2026-11-30T00:00:00Z",
        format="date-time",
    ),
]
RECORD_EXAMPLE = {
    "service_request_id": "CRM-000042",
    "service_request_id_ext": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
    "status": "open",
    "external_status_code": "IN_PROGRESS",
    "status_notes": "Ekipa w drodze",
    "service_name": "pothole",
    "service_code": "pothole",
    "description": "Deep pothole on the right lane",
    "agency_responsible": "open311",
    "requested_datetime": "2026-11-28T08:00:00Z",
    "updated_datetime": "2026-11-28T09:30:00Z",
    "lat": 51.1097,
    "long": 17.0326,
    "media_url": "http://127.0.0.1:8000/v1/photos/4c1e…/signed?expires=…&signature=…",
}
UPDATE_EXAMPLE = {
    "update_id": "7d1f7e0a-2b7c-4c55-9a43-1d3b2f0f4a11",
    "service_request_id": "CRM-000042",
    "service_request_id_ext": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
    "status": "in_progress",
    "external_status_code": "IN_PROGRESS",
    "description": "Ekipa w drodze",
    "updated_datetime": "2026-11-28T09:30:00Z",
}
TEXT = {"type": "string"}
API_KEY = {
    "type": "string",
    "description": "The simulator's API key (needed unless it runs without one).",
}


@dataclass
class _Pending:
    data: CaseCreate
    resolve_at: dt.datetime | None


def router(store: Store, settings: Settings, set_status: SetStatus) -> APIRouter:
    """The Open311 endpoints over `store`; `set_status` is how the REST side changes one."""
    # Imported here: the app module includes this router while it is being built.
    from devtools.crm_simulator.app import CaseComment, CaseCreate, CaseStatus, Location

    api = APIRouter(tags=["open311"])
    mode = Mode(
        batch=settings.open311_batch,
        token_delay_seconds=settings.open311_token_delay_seconds,
    )
    pending: dict[str, _Pending] = {}
    resolved: dict[str, str] = {}
    update_answers: dict[str, str] = {}

    async def read_form(request: Request) -> FormData:
        try:
            return await request.form()
        except HTTPException as exc:  # a multipart body that cannot be parsed
            raise Open311Error(400, f"the form cannot be read: {exc.detail}") from None

    def check_format(fmt: str) -> None:
        if fmt not in MEDIA_TYPES:
            raise Open311Error(404, f"no format {fmt!r}: use xml or json")

    def check_jurisdiction(values: Mapping[str, Any]) -> None:
        given = field(values, "jurisdiction_id")
        ours = settings.open311_jurisdiction_id
        if given and ours and given != ours:
            raise Open311Error(404, f"jurisdiction {given} not found")

    def check_key(form: Mapping[str, Any]) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        if key and field(form, "api_key") != key:
            raise Open311Error(403, "missing or wrong api_key")

    async def resolve_due() -> None:
        now = dt.datetime.now(dt.UTC)
        for token, waiting in list(pending.items()):
            if waiting.resolve_at is not None and waiting.resolve_at <= now:
                await resolve(token)

    async def resolve(token: str) -> None:
        waiting = pending.pop(token)
        case = await store.create(waiting.data)
        case.channel = "open311"
        resolved[token] = case.case_id

    def record(case: Case) -> dict[str, Any]:
        last = case.history[-1]
        return {
            "service_request_id": case.case_id,
            "service_request_id_ext": case.external_ref,
            "status": "closed" if case.status in CLOSED else "open",
            "external_status_code": case.status,
            "status_notes": last.note,
            "service_name": case.category,
            "service_code": case.category,
            "description": case.description,
            "agency_responsible": case.unit,
            "requested_datetime": format_w3c(case.created_at),
            "updated_datetime": format_w3c(case.updated_at),
            "lat": case.location.lat,
            "long": case.location.lon,
            "media_url": case.photos[0] if case.photos else None,
        }

    def attributes(form: FormData) -> dict[str, str | int | float | bool]:
        found: dict[str, str | int | float | bool] = {}
        for key in form:
            if match := ATTRIBUTE.fullmatch(key):
                values = [str(v) for v in form.getlist(key)]
                found[match[1]] = ",".join(values) if match[2] else values[-1]
        return found

    def new_case(form: FormData) -> CaseCreate:
        code = field(form, "service_code")
        if not code:
            raise Open311Error(400, "service_code not provided")
        if not CODE.match(code):
            raise Open311Error(404, f"service_code {code} not found")
        try:
            lat, lon = float(field(form, "lat")), float(field(form, "long"))
        except ValueError:
            raise Open311Error(400, "a location (lat and long) is required") from None
        description = field(form, "description")
        if len(description) > 4000:
            raise Open311Error(400, "description longer than 4000 characters")
        contact = {
            "name": " ".join(
                field(form, n).strip() for n in ("first_name", "last_name")
            ).strip(),
            "email": field(form, "email"),
        }
        return CaseCreate(
            external_ref=str(
                field(form, "service_request_id_ext") or f"open311-{uuid.uuid4()}"
            ),
            title=description[:80],
            category=code,
            unit=settings.open311_jurisdiction_id or "open311",
            description=description,
            attributes=attributes(form),
            location=Location(lat=lat, lon=lon),
            reporter={k: v for k, v in contact.items() if v} or None,
            photos=[str(u) for u in form.getlist("media_url") if u],
        )

    async def answer(request: Request, work: Callable[[str], Any]) -> Response:
        fmt = request.path_params["fmt"]
        try:
            check_format(fmt)
            await resolve_due()
            result: Response = await work(fmt)
            return result
        except Open311Error as exc:
            return error(fmt, exc)

    @api.get(
        PREFIX + "/discovery.{fmt}",
        summary="Service discovery",
        description="Where the GeoReport v2 endpoint is and which formats it speaks.",
        openapi_extra=operation(
            parameters=[format_parameter()],
            answer="The discovery document.",
            xml_example=XML + "<discovery><changeset>2026-01-01T00:00:00Z</changeset>"
            "<contact>crm-simulator</contact>…<endpoints><endpoint>…</endpoint>"
            "</endpoints></discovery>",
            json_example={
                "changeset": "2026-01-01T00:00:00Z",
                "contact": "crm-simulator",
                "key_service": "the simulator's API key",
                "endpoints": [
                    {
                        "specification": SPEC,
                        "url": "http://127.0.0.1:8002" + PREFIX,
                        "changeset": "2026-01-01T00:00:00Z",
                        "type": "test",
                        "formats": ["text/xml", "application/json"],
                    }
                ],
            },
            errors=[404],
        ),
    )
    async def discovery(request: Request) -> Response:
        async def work(fmt: str) -> Response:
            endpoint = {
                "specification": SPEC,
                "url": str(request.base_url).rstrip("/") + PREFIX,
                "changeset": format_w3c(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
                "type": "test",
                "formats": ["text/xml", "application/json"],
            }
            about = {
                "changeset": endpoint["changeset"],
                "contact": "crm-simulator",
                "key_service": "the simulator's API key",
            }
            if fmt == "json":
                body = json.dumps({**about, "endpoints": [endpoint]})
                return Response(body, media_type=MEDIA_TYPES["json"])
            top = ET.Element("discovery")
            for key, value in about.items():
                ET.SubElement(top, key).text = str(value)
            endpoints = ET.SubElement(ET.SubElement(top, "endpoints"), "endpoint")
            for key in ("specification", "url", "changeset", "type"):
                ET.SubElement(endpoints, key).text = str(endpoint[key])
            formats = ET.SubElement(endpoints, "formats")
            for media in endpoint["formats"]:
                ET.SubElement(formats, "format").text = media
            body = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(
                top, encoding="unicode"
            )
            return Response(body, media_type=MEDIA_TYPES["xml"])

        return await answer(request, work)

    @api.get(
        PREFIX + "/services.{fmt}",
        summary="Service list",
        description="The service codes of the requests so far (any well-formed code is taken), all realtime or all batch.",
        openapi_extra=operation(
            parameters=[format_parameter(), JURISDICTION],
            answer="The services.",
            xml_example=XML + "<services><service><service_code>pothole</service_code>"
            "<service_name>pothole</service_name>…<type>realtime</type></service>"
            "</services>",
            json_example=[
                {
                    "service_code": "pothole",
                    "service_name": "pothole",
                    "description": "",
                    "metadata": False,
                    "type": "realtime",
                    "keywords": "",
                    "group": "",
                }
            ],
            errors=[404],
        ),
    )
    async def services(request: Request) -> Response:
        async def work(fmt: str) -> Response:
            check_jurisdiction(request.query_params)
            codes = sorted({c.category for c in store.cases.values()} | {"other"})
            kind = "batch" if mode.batch else "realtime"
            return render(
                fmt,
                "services",
                "service",
                [
                    {
                        "service_code": c,
                        "service_name": c,
                        "description": "",
                        "metadata": False,
                        "type": kind,
                        "keywords": "",
                        "group": "",
                    }
                    for c in codes
                ],
            )

        return await answer(request, work)

    @api.post(
        PREFIX + "/requests.{fmt}",
        summary="Create a service request",
        description="Form-encoded or multipart: `api_key`, `service_code`, `lat`, `long`, `description`, `attribute[CODE]`, `email`, `first_name`, `last_name`, `media_url` (repeatable) and `service_request_id_ext` (the client's own id, findable again with GET requests). Answers the request id, or a token in batch mode.",
        openapi_extra=operation(
            parameters=[format_parameter()],
            answer="The new request's id, or in batch mode a token.",
            xml_example=XML + "<service_requests><request>"
            "<service_request_id>CRM-000042</service_request_id>"
            "<service_notice>Thank you</service_notice></request></service_requests>",
            json_example=[
                {"service_request_id": "CRM-000042", "service_notice": "Thank you"}
            ],
            errors=[400, 403, 404],
            form={
                "required": ["service_code", "lat", "long"],
                "properties": {
                    "api_key": API_KEY,
                    "jurisdiction_id": TEXT,
                    "service_code": {"type": "string", "pattern": CODE.pattern},
                    "lat": {"type": "number"},
                    "long": {"type": "number"},
                    "description": {"type": "string", "maxLength": 4000},
                    "email": TEXT,
                    "first_name": TEXT,
                    "last_name": TEXT,
                    "service_request_id_ext": TEXT,
                    # One link, or several (the field repeated): the same in a form.
                    "media_url": {"anyOf": [TEXT, {"type": "array", "items": TEXT}]},
                },
                "example": {
                    "api_key": "…",
                    "service_code": "pothole",
                    "lat": 51.1097,
                    "long": 17.0326,
                    "description": "Deep pothole on the right lane",
                    "attribute[depth]": "deep",
                    "service_request_id_ext": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
                },
            },
        ),
    )
    async def create_request(request: Request) -> Response:
        async def work(fmt: str) -> Response:
            form = await read_form(request)
            check_key(form)
            check_jurisdiction(form)
            data = new_case(form)
            if mode.batch:
                token = str(uuid.uuid4())
                delay = mode.token_delay_seconds
                resolve_at = (
                    None
                    if delay is None
                    else dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
                )
                pending[token] = _Pending(data, resolve_at)
                return render(fmt, "service_requests", "request", [{"token": token}])
            case = await store.create(data)
            case.channel = "open311"
            return render(
                fmt,
                "service_requests",
                "request",
                [{"service_request_id": case.case_id, "service_notice": "Thank you"}],
            )

        return await answer(request, work)

    @api.get(
        PREFIX + "/tokens/{token}.{fmt}",
        summary="Request id of a token",
        description="The request id once the batch service has made the request; until then the token alone.",
        openapi_extra=operation(
            parameters=[
                path_parameter(
                    "token",
                    "The token a batch-mode POST requests answered.",
                    "5b0d1b6c-0a5f-4d1e-8f3c-2b7a9e6d4c21",
                ),
                format_parameter(),
                JURISDICTION,
            ],
            answer="The token, with the request id once it is made.",
            xml_example=XML + "<service_requests><request>"
            "<service_request_id>CRM-000042</service_request_id>"
            "<token>5b0d1b6c-0a5f-4d1e-8f3c-2b7a9e6d4c21</token></request>"
            "</service_requests>",
            json_example=[
                {
                    "service_request_id": "CRM-000042",
                    "token": "5b0d1b6c-0a5f-4d1e-8f3c-2b7a9e6d4c21",
                }
            ],
            errors=[404],
        ),
    )
    async def read_token(request: Request) -> Response:
        token = request.path_params["token"]

        async def work(fmt: str) -> Response:
            check_jurisdiction(request.query_params)
            if token in resolved:
                return render(
                    fmt,
                    "service_requests",
                    "request",
                    [{"service_request_id": resolved[token], "token": token}],
                )
            if token in pending:
                return render(fmt, "service_requests", "request", [{"token": token}])
            raise Open311Error(404, f"token {token} not found")

        return await answer(request, work)

    @api.get(
        PREFIX + "/requests.{fmt}",
        summary="Find service requests",
        description="By `service_request_id` (comma list) or `service_request_id_ext` (the client's id; either overrides the rest), else by `start_date`/`end_date` on when they were made (default the last 90 days), `status` (open, closed) and `service_code`; at most 1000, oldest first.",
        openapi_extra=operation(
            parameters=[
                format_parameter(),
                JURISDICTION,
                query_parameter(
                    "service_request_id", "Request ids, comma-separated.", "CRM-000042"
                ),
                query_parameter(
                    "service_request_id_ext",
                    "The client's own id of a request.",
                    "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
                ),
                *DATES,
                query_parameter("status", "`open`, `closed` or both.", "open"),
                query_parameter(
                    "service_code", "Service codes, comma-separated.", "pothole"
                ),
            ],
            answer="The requests found.",
            xml_example=XML + "<service_requests><request>"
            "<service_request_id>CRM-000042</service_request_id><status>open</status>"
            "…</request></service_requests>",
            json_example=[RECORD_EXAMPLE],
            errors=[400, 404],
        ),
    )
    async def list_requests(request: Request) -> Response:
        async def work(fmt: str) -> Response:
            query = request.query_params
            check_jurisdiction(query)
            cases = list(store.cases.values())
            if ids := query.get("service_request_id"):
                wanted = {i.strip() for i in ids.split(",")}
                cases = [c for c in cases if c.case_id in wanted]
            elif ext := query.get("service_request_id_ext"):
                cases = [c for c in cases if c.external_ref == ext]
            else:
                now = dt.datetime.now(dt.UTC)
                end = parse_date(query.get("end_date"), "end_date") or now
                start = (
                    parse_date(query.get("start_date"), "start_date")
                    or end - DEFAULT_WINDOW
                )
                if end - start > DEFAULT_WINDOW + dt.timedelta(days=1):
                    raise Open311Error(
                        400, "start_date to end_date may span at most 90 days"
                    )
                cases = [c for c in cases if start <= c.created_at <= end]
                if statuses := query.get("status"):
                    wanted = {s.strip().lower() for s in statuses.split(",")}
                    cases = [
                        c
                        for c in cases
                        if ("closed" if c.status in CLOSED else "open") in wanted
                    ]
                if codes := query.get("service_code"):
                    wanted = {s.strip() for s in codes.split(",")}
                    cases = [c for c in cases if c.category in wanted]
            return render(
                fmt,
                "service_requests",
                "request",
                [record(c) for c in cases[:REQUESTS_LIMIT]],
            )

        return await answer(request, work)

    @api.get(
        PREFIX + "/requests/{request_id}.{fmt}",
        summary="One service request",
        description="A list of one request; 404 for an unknown id.",
        openapi_extra=operation(
            parameters=[REQUEST_ID, format_parameter(), JURISDICTION],
            answer="The request, as a list of one.",
            xml_example=XML + "<service_requests><request>"
            "<service_request_id>CRM-000042</service_request_id><status>open</status>"
            "…</request></service_requests>",
            json_example=[RECORD_EXAMPLE],
            errors=[404],
        ),
    )
    async def read_request(request: Request) -> Response:
        request_id = request.path_params["request_id"]

        async def work(fmt: str) -> Response:
            check_jurisdiction(request.query_params)
            case = store.cases.get(request_id)
            if case is None:
                raise Open311Error(404, f"service request {request_id} not found")
            return render(fmt, "service_requests", "request", [record(case)])

        return await answer(request, work)

    @api.get(
        PREFIX + "/servicerequestupdates.{fmt}",
        summary="Status updates (mySociety)",
        description="Every status change after the case was made, by `start_date`/`end_date` on its time: `update_id`, `service_request_id`, the extended `status`, `external_status_code`, `description` (the note), `updated_datetime`.",
        openapi_extra=operation(
            parameters=[format_parameter(), JURISDICTION, *DATES],
            answer="The status updates, oldest first.",
            xml_example=XML + "<service_request_updates><request_update>"
            "<update_id>7d1f7e0a-2b7c-4c55-9a43-1d3b2f0f4a11</update_id>…"
            "</request_update></service_request_updates>",
            json_example=[UPDATE_EXAMPLE],
            errors=[400, 404],
        ),
    )
    async def list_updates(request: Request) -> Response:
        async def work(fmt: str) -> Response:
            query = request.query_params
            check_jurisdiction(query)
            start = parse_date(query.get("start_date"), "start_date")
            end = parse_date(query.get("end_date"), "end_date")
            records = [
                {
                    "update_id": u.update_id,
                    "service_request_id": u.case_id,
                    "service_request_id_ext": u.external_ref,
                    # A code of the city's own has no extended status: the client reads
                    # `external_status_code`.
                    "status": EXTENDED.get(u.status, "unchanged"),
                    "external_status_code": u.status,
                    "description": u.note or "",
                    "updated_datetime": format_w3c(u.changed_at),
                }
                for u in store.updates
                if (start is None or u.changed_at >= start)
                and (end is None or u.changed_at <= end)
            ]
            return render(fmt, "service_request_updates", "request_update", records)

        return await answer(request, work)

    @api.post(
        PREFIX + "/servicerequestupdates.{fmt}",
        summary="Post an update (mySociety)",
        description="`api_key`, `service_request_id`, `update_id` (the client's id: a repeat adds nothing), `status`, `description`, `updated_datetime`. Status OPEN (or REOPEN) reopens the case with the description as its note; any other status adds the description as a comment.",
        openapi_extra=operation(
            parameters=[format_parameter()],
            answer="The update's id (the same for a repeat).",
            xml_example=XML + "<service_request_updates><request_update>"
            "<update_id>7d1f7e0a-2b7c-4c55-9a43-1d3b2f0f4a11</update_id>"
            "</request_update></service_request_updates>",
            json_example=[{"update_id": "7d1f7e0a-2b7c-4c55-9a43-1d3b2f0f4a11"}],
            errors=[400, 403, 404],
            form={
                "required": [
                    "service_request_id",
                    "update_id",
                    "status",
                    "description",
                ],
                "properties": {
                    "api_key": API_KEY,
                    "jurisdiction_id": TEXT,
                    "service_request_id": {"type": "string", "minLength": 1},
                    "update_id": {"type": "string", "minLength": 1},
                    "status": {"type": "string", "minLength": 1},
                    "description": {"type": "string", "minLength": 1},
                    "updated_datetime": {
                        "type": "string",
                        "description": "Taken and not read: the change is dated when "
                        "it arrives.",
                    },
                },
                "example": {
                    "api_key": "…",
                    "service_request_id": "CRM-000042",
                    "update_id": "mam-update-1",
                    "status": "OPEN",
                    "description": "Dziura nadal jest.",
                    "updated_datetime": "2026-12-01T10:00:00Z",
                },
            },
        ),
    )
    async def post_update(request: Request) -> Response:
        async def work(fmt: str) -> Response:
            form = await read_form(request)
            check_key(form)
            check_jurisdiction(form)
            missing = [
                n
                for n in ("service_request_id", "update_id", "status", "description")
                if not field(form, n)
            ]
            if missing:
                raise Open311Error(400, f"{', '.join(missing)} not provided")
            case = store.cases.get(field(form, "service_request_id"))
            if case is None:
                raise Open311Error(
                    404,
                    f"service request {field(form, 'service_request_id')} not found",
                )
            key = f"open311-update:{field(form, 'update_id')}"
            if key not in update_answers:
                description = field(form, "description")
                if field(form, "status").upper() in ("OPEN", "REOPEN"):
                    set_status(request, case, CaseStatus.REOPENED, description)
                    update_answers[key] = store.updates[-1].update_id
                else:
                    case.comments.append(
                        CaseComment(
                            comment=description, added_at=dt.datetime.now(dt.UTC)
                        )
                    )
                    update_answers[key] = str(uuid.uuid4())
            return render(
                fmt,
                "service_request_updates",
                "request_update",
                [{"update_id": update_answers[key]}],
            )

        return await answer(request, work)

    @api.get(
        "/open311/simulator",
        tags=["open311 simulator"],
        summary="Open311 mode",
        description="Whether requests are taken as a batch service, and how long tokens wait.",
    )
    async def read_mode() -> Mode:
        return mode

    @api.put(
        "/open311/simulator",
        tags=["open311 simulator"],
        summary="Switch the Open311 mode",
        description="For tests: batch or realtime from now on, and the delay of new tokens.",
        responses={
            400: {
                "description": "The body cannot be decoded.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"detail": {"type": "string"}},
                        }
                    }
                },
            }
        },
    )
    async def set_mode(new: Mode) -> Mode:
        mode.batch = new.batch
        mode.token_delay_seconds = new.token_delay_seconds
        return mode

    @api.post(
        "/open311/simulator/tokens/release",
        tags=["open311 simulator"],
        summary="Resolve every waiting token",
        description="For tests: the batch service makes every waiting request now. Answers how many.",
    )
    async def release_tokens() -> dict[str, int]:
        count = len(pending)
        for token in list(pending):
            await resolve(token)
        return {"released": count}

    return api
