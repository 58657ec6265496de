"""Reading an Open311 server's answers: records in XML (through defusedxml) or JSON, their
fields as plain text, W3C date-times, the errors of a failed answer, and a polled record as a
status change."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx
from defusedxml import ElementTree

from crm_adapter.crm.connector import CHANGE_LIMITS, CrmStatusChange, PolledChange
from shared.inbox import fitting_id
from shared.w3c import parse_w3c

logger = logging.getLogger(__name__)

_MAX_ID = CHANGE_LIMITS["case_id"]
_MAX_STATUS = CHANGE_LIMITS["status"]
_MAX_UPDATE_ID = CHANGE_LIMITS["update_id"]
_MAX_NOTE = 4000


def moment_of(value: str) -> dt.datetime | None:
    """The CRM's W3C date-time (one without a zone taken as UTC), or None if it is none."""
    try:
        return parse_w3c(value, assume_utc=True)
    except ValueError:
        return None


def _clean(value: str) -> str:
    return value.replace("\x00", "").strip()


def _xml_record(element: Any) -> dict[str, Any]:
    """An XML element's children as a dict; repeated tags (`media_url`) become lists."""
    record: dict[str, Any] = {}
    for child in element:
        value: Any = _xml_record(child) if len(child) else _clean(child.text or "")
        if child.tag in record:
            previous = record[child.tag]
            record[child.tag] = [
                *(previous if isinstance(previous, list) else [previous]),
                value,
            ]
        else:
            record[child.tag] = value
    return record


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def text_of(record: Mapping[str, Any], field: str) -> str:
    """A plain-text field of a record ('' when absent, empty or not plain text)."""
    value = record.get(field)
    return value if isinstance(value, str) else ""


def read_records(content: bytes, fmt: str) -> list[dict[str, Any]]:
    """An answer's records: the children of its root element, or its JSON array;
    ValueError when it is neither."""
    if fmt == "json":
        data = json.loads(content)
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError("not a JSON array of objects")
        return [_json_value(r) for r in data]
    try:
        root = ElementTree.fromstring(content)
    except Exception as exc:  # defusedxml's refusals and every parse error
        raise ValueError(f"not readable XML: {exc}") from exc
    return [_xml_record(child) for child in root]


def errors_of(response: httpx.Response, fmt: str) -> str:
    """The Open311 errors of a failed answer, or the start of its body."""
    try:
        records = read_records(response.content, fmt)
    except ValueError:
        return response.text[:500]
    errors = [
        f"{text_of(r, 'code') or '?'} {text_of(r, 'description')}".strip()
        for r in records
    ]
    return "; ".join(errors)[:500] or response.text[:500]


def polled_change(
    record: Mapping[str, Any], update_id: str, status: str, *, note_field: str
) -> PolledChange | None:
    """A polled record as a status change to `status`, or None (logged) when it names no
    case, status or time we can keep."""
    case_id = text_of(record, "service_request_id")
    changed_at = moment_of(text_of(record, "updated_datetime"))
    if not case_id or len(case_id) > _MAX_ID or not status or changed_at is None:
        logger.warning("open311.unreadable_change", extra={"record": str(record)[:300]})
        return None
    change = CrmStatusChange(
        update_id=fitting_id(update_id, _MAX_UPDATE_ID),
        case_id=case_id,
        external_ref=text_of(record, "service_request_id_ext") or None,
        status=status[:_MAX_STATUS],
        note=text_of(record, note_field)[:_MAX_NOTE] or None,
        version=None,
        changed_at=changed_at,
    )
    return PolledChange(change, json.dumps(record, ensure_ascii=False))
