"""Open311 GeoReport v2 over intake's own data: services are categories, requests reports.

A request's `service_request_id` is the report's number (`WRO-2026-000042`), which residents
and the city already use; the `token` of a `batch` POST is the report's id. Records never
carry the reporter's identity.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from intake_service.categories.models import Category
from intake_service.reports.models import Report, ReportStatusChange
from intake_service.reports.schemas import public_description
from shared.contracts import ReportStatus
from shared.db import utcnow
from shared.i18n import N_, Np_, pick, translate

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]

# Our datatypes as Open311 names them.
_DATATYPES = {
    "string": "string",
    "integer": "number",
    "number": "number",
    "boolean": "singlevaluelist",
    "choice": "singlevaluelist",
}

# The mySociety extension's update statuses (lower case, as GET returns them).
UPDATE_STATUSES: Mapping[ReportStatus, str] = {
    ReportStatus.RECEIVED: "open",
    ReportStatus.SUBMITTED: "open",
    ReportStatus.IN_PROGRESS: "in_progress",
    ReportStatus.RESOLVED: "fixed",
    ReportStatus.REJECTED: "closed",
    ReportStatus.REOPENED: "reopen",
}

MAX_DAYS = 90
"""The longest `start_date`..`end_date` range of GET requests, and the default one."""


def core_status(status: ReportStatus) -> str:
    """`open` or `closed`: the only statuses of core GeoReport v2."""
    return "closed" if status.is_closed else "open"


def service(category: Category, lang: str, service_type: str) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": pick(category.names, lang),
        "description": pick(category.names, lang),
        "metadata": bool(category.attributes),
        "type": service_type,
        "keywords": ", ".join(
            sorted({pick(category.group.names, lang), category.unit_code or ""} - {""})
        ),
        "group": pick(category.group.names, lang),
    }


def service_definition(category: Category, lang: str) -> dict[str, Any]:
    attributes = []
    for order, spec in enumerate(category.attributes, start=1):
        attribute: dict[str, Any] = {
            "variable": True,
            "code": spec["code"],
            "datatype": _DATATYPES[spec["datatype"]],
            "required": bool(spec.get("required")),
            "datatype_description": _datatype_description(spec, lang),
            "order": order,
            "description": pick(spec["names"], lang),
        }
        if spec["datatype"] == "choice":
            attribute["values"] = [
                {"key": choice["code"], "name": pick(choice["names"], lang)}
                for choice in spec.get("choices", [])
            ]
        elif spec["datatype"] == "boolean":
            attribute["values"] = [
                {"key": "true", "name": translate(N_("Yes"), lang)},
                {"key": "false", "name": translate(N_("No"), lang)},
            ]
        attributes.append(attribute)
    return {"service_code": category.code, "attributes": attributes}


def _datatype_description(spec: Mapping[str, Any], lang: str) -> str | None:
    if spec["datatype"] == "integer":
        return translate(N_("A whole number."), lang)
    if spec["datatype"] == "string" and "max_length" in spec:
        return translate(
            Np_("At most {count} character.", "At most {count} characters."),
            lang,
            count=spec["max_length"],
        )
    return None


def coerce_attributes(
    declared: Sequence[Mapping[str, Any]], given: Mapping[str, str | list[str]]
) -> dict[str, Any]:
    """Form values (always text) as the category's datatypes, where they read as such; what
    does not read is passed on as text, for the category's check to refuse by name."""
    types = {spec["code"]: spec["datatype"] for spec in declared}
    values: dict[str, Any] = {}
    for code, raw in given.items():
        if isinstance(raw, list):
            if len(raw) != 1:
                values[code] = raw  # several values for one field: the check refuses it
                continue
            raw = raw[0]
        datatype = types.get(code)
        value: Any = raw
        try:
            if datatype == "integer":
                value = int(raw)
            elif datatype == "number":
                value = float(raw)
        except ValueError:
            pass
        if datatype == "boolean" and raw.lower() in ("true", "false", "1", "0"):
            value = raw.lower() in ("true", "1")
        values[code] = value
    return values


@dataclass(frozen=True)
class RequestQuery:
    """GET requests' filters, already read and checked."""

    numbers: Sequence[str]
    service_codes: Sequence[str]
    start: dt.datetime | None
    end: dt.datetime | None
    statuses: Sequence[str]
    page: int
    page_size: int


_CLOSED = [s.value for s in ReportStatus if s.is_closed]
_OPEN = [s.value for s in ReportStatus if not s.is_closed]


async def find_requests(session: AsyncSession, query: RequestQuery) -> list[Report]:
    """The reports the query asks for, newest first; `numbers` overrides the other filters."""
    statement = select(Report).options(selectinload(Report.history))
    if query.numbers:
        statement = statement.where(Report.number.in_(query.numbers))
    else:
        end = query.end or (
            query.start + dt.timedelta(days=MAX_DAYS) if query.start else None
        )
        start = query.start or ((end or utcnow()) - dt.timedelta(days=MAX_DAYS))
        statement = statement.where(Report.created_at >= start)
        if end is not None:
            statement = statement.where(Report.created_at <= end)
        if query.service_codes:
            statement = statement.where(Report.category_code.in_(query.service_codes))
        statuses = set()
        for status in query.statuses:
            statuses |= set(_CLOSED if status == "closed" else _OPEN)
        if statuses:
            statement = statement.where(Report.status.in_(sorted(statuses)))
    statement = (
        statement.order_by(Report.created_at.desc(), Report.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return list((await session.scalars(statement)).all())


async def report_by_number(session: AsyncSession, number: str) -> Report | None:
    return await session.scalar(
        select(Report)
        .options(selectinload(Report.history))
        .where(Report.number == number)
    )


async def report_by_token(session: AsyncSession, token: str) -> Report | None:
    try:
        report_id = uuid.UUID(token)
    except ValueError:
        return None
    return await session.get(Report, report_id)


def _public_note(report: Report) -> str | None:
    """The latest note the unit gave (a reporter's own comment is theirs, not public)."""
    for change in reversed(report.history):
        if change.note and not change.by_reporter and not change.superseded:
            return change.note
    return None


def expected_notice(report: Report, lang: str) -> str:
    return expected_notice_at(report.expected_resolution_at, lang)


def expected_notice_at(when: dt.datetime | str, lang: str) -> str:
    """The `service_notice`: when the city expects to have dealt with the request."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    return translate(
        N_("Expected to be dealt with by {date}."),
        lang,
        date=when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def duplicates_notice(numbers: Sequence[str], lang: str) -> str:
    return translate(
        N_("Similar open reports nearby: {numbers}."), lang, numbers=", ".join(numbers)
    )


def request_record(report: Report, lang: str, base_url: str) -> dict[str, Any]:
    """A service request record as the spec lists its fields (never the reporter, nor
    what the city's moderators hid: a notice stands for a hidden description, and
    `media_url` is the first photo still shown)."""
    shown = [photo for photo in report.photos if photo.hidden_at is None]
    return {
        "service_request_id": report.number,
        "status": core_status(report.status),
        "status_notes": _public_note(report),
        "service_name": pick(report.category.names, lang),
        "service_code": report.category_code,
        "description": public_description(
            report.description, report.description_hidden_at, lang
        ),
        "agency_responsible": pick(report.unit.names, lang) if report.unit else None,
        "service_notice": expected_notice(report, lang),
        "requested_datetime": report.created_at,
        "updated_datetime": report.updated_at,
        "expected_datetime": report.expected_resolution_at,
        # No geocoder: the position is in lat/long (clients expect the field).
        "address": "",
        "lat": report.lat,
        "long": report.lon,
        "media_url": photo_url(base_url, shown[0].id) if shown else None,
    }


def photo_url(base_url: str, photo_id: uuid.UUID) -> str:
    return f"{base_url.rstrip('/')}/v1/photos/{photo_id}"


async def find_updates(
    session: AsyncSession,
    *,
    start: dt.datetime | None,
    end: dt.datetime | None,
    limit: int,
) -> list[tuple[ReportStatusChange, Report]]:
    """Status changes in the window (default: the last 24 hours), oldest first."""
    end_at = end or utcnow()
    start_at = start or end_at - dt.timedelta(hours=24)
    statement = (
        select(ReportStatusChange, Report)
        .join(Report, Report.id == ReportStatusChange.report_id)
        .where(
            and_(
                ReportStatusChange.changed_at >= start_at,
                ReportStatusChange.changed_at <= end_at,
            )
        )
        .order_by(ReportStatusChange.changed_at, ReportStatusChange.id)
        .limit(limit)
    )
    return [(change, report) for change, report in await session.execute(statement)]


def update_record(change: ReportStatusChange, report: Report) -> dict[str, Any]:
    status = change.status
    return {
        "update_id": str(change.id),
        "service_request_id": report.number,
        "status": UPDATE_STATUSES[status],
        "updated_datetime": change.changed_at,
        # A reporter's comment on their reopen is theirs, not public.
        "description": "" if change.by_reporter else (change.note or ""),
        "external_status_code": status.value,
        "media_url": "",
    }
