"""Open311 requests as the simulator's cases and back: the checks every call passes, a form
read as a new case, a query as the cases it finds, cases and their changes as records."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from devtools.crm_simulator.config import Settings
from devtools.crm_simulator.models import Case, CaseCreate, Location, Update
from devtools.crm_simulator.open311_format import (
    MEDIA_TYPES,
    Open311Error,
    field,
    parse_date,
)
from shared.w3c import format_w3c

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


async def read_form(request: Request) -> FormData:
    try:
        return await request.form()
    except HTTPException as exc:  # a multipart body that cannot be parsed
        raise Open311Error(400, f"the form cannot be read: {exc.detail}") from None


def check_format(fmt: str) -> None:
    if fmt not in MEDIA_TYPES:
        raise Open311Error(404, f"no format {fmt!r}: use xml or json")


def check_jurisdiction(settings: Settings, values: Mapping[str, Any]) -> None:
    given = field(values, "jurisdiction_id")
    ours = settings.open311_jurisdiction_id
    if given and ours and given != ours:
        raise Open311Error(404, f"jurisdiction {given} not found")


def check_key(settings: Settings, form: Mapping[str, Any]) -> None:
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    if key and field(form, "api_key") != key:
        raise Open311Error(403, "missing or wrong api_key")


def discovery_document(base_url: str, fmt: str) -> Response:
    """The discovery document of the endpoint served at `base_url`."""
    endpoint = {
        "specification": SPEC,
        "url": base_url.rstrip("/") + PREFIX,
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


def service_list(codes: Iterable[str], *, batch: bool) -> list[dict[str, Any]]:
    kind = "batch" if batch else "realtime"
    return [
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
    ]


def record(case: Case) -> dict[str, Any]:
    last = case.history[-1]
    return {
        "service_request_id": case.case_id,
        "service_request_id_ext": case.external_ref,
        "status": open_or_closed(case),
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


def update_record(update: Update) -> dict[str, Any]:
    return {
        "update_id": update.update_id,
        "service_request_id": update.case_id,
        "service_request_id_ext": update.external_ref,
        # A code of the city's own has no extended status: the client reads
        # `external_status_code`.
        "status": EXTENDED.get(update.status, "unchanged"),
        "external_status_code": update.status,
        "description": update.note or "",
        "updated_datetime": format_w3c(update.changed_at),
    }


def open_or_closed(case: Case) -> str:
    return "closed" if case.status in CLOSED else "open"


def attributes(form: FormData) -> dict[str, str | int | float | bool]:
    found: dict[str, str | int | float | bool] = {}
    for key in form:
        if match := ATTRIBUTE.fullmatch(key):
            values = [str(v) for v in form.getlist(key)]
            found[match[1]] = ",".join(values) if match[2] else values[-1]
    return found


def new_case(settings: Settings, form: FormData) -> CaseCreate:
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


def find_cases(cases: list[Case], query: Mapping[str, str]) -> list[Case]:
    """The cases a GET requests asks for: by ids, by the client's id, or by the filters."""
    if ids := query.get("service_request_id"):
        wanted = {i.strip() for i in ids.split(",")}
        return [c for c in cases if c.case_id in wanted]
    if ext := query.get("service_request_id_ext"):
        return [c for c in cases if c.external_ref == ext]
    now = dt.datetime.now(dt.UTC)
    end = parse_date(query.get("end_date"), "end_date") or now
    start = parse_date(query.get("start_date"), "start_date") or end - DEFAULT_WINDOW
    if end - start > DEFAULT_WINDOW + dt.timedelta(days=1):
        raise Open311Error(400, "start_date to end_date may span at most 90 days")
    cases = [c for c in cases if start <= c.created_at <= end]
    if statuses := query.get("status"):
        wanted = {s.strip().lower() for s in statuses.split(",")}
        cases = [c for c in cases if open_or_closed(c) in wanted]
    if codes := query.get("service_code"):
        wanted = {s.strip() for s in codes.split(",")}
        cases = [c for c in cases if c.category in wanted]
    return cases


def find_updates(updates: list[Update], query: Mapping[str, str]) -> list[Update]:
    """The changes made from `start_date` to `end_date`, either end open."""
    start = parse_date(query.get("start_date"), "start_date")
    end = parse_date(query.get("end_date"), "end_date")
    return [
        u
        for u in updates
        if (start is None or u.changed_at >= start)
        and (end is None or u.changed_at <= end)
    ]
