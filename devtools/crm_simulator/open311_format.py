"""Open311's two formats as the simulator writes them: XML records and bare JSON arrays,
Open311 errors, W3C date-times, form fields."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Response

MEDIA_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json"}


class Open311Error(Exception):
    def __init__(self, status_code: int, description: str) -> None:
        super().__init__(description)
        self.status_code = status_code
        self.description = description


def w3c(moment: dt.datetime) -> str:
    return (
        moment.astimezone(dt.UTC)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z")
    )


def parse_date(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    text = value.strip()
    if len(text) > 19 and text[19] == " ":  # a `+` that arrived as a space
        text = text[:19] + "+" + text[20:]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} is not a W3C date-time") from None
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} needs a time zone")
    return moment


def field(values: Mapping[str, Any], name: str) -> str:
    """A form or query field as text; absent, empty or a file: ''."""
    value = values.get(name)
    return value if isinstance(value, str) else ""


def render(
    fmt: str, root: str, item: str, records: Sequence[Mapping[str, Any]]
) -> Response:
    """Records as Open311 XML (`<root><item>…`) or as a bare JSON array."""
    if fmt == "json":
        return Response(
            json.dumps(list(records), ensure_ascii=False),
            media_type=MEDIA_TYPES["json"],
        )
    top = ET.Element(root)
    for record in records:
        element = ET.SubElement(top, item)
        for key, value in record.items():
            for one in value if isinstance(value, list) else [value]:
                child = ET.SubElement(element, key)
                if isinstance(one, bool):
                    child.text = "true" if one else "false"
                elif one is not None:
                    child.text = str(one)
    body = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(
        top, encoding="unicode"
    )
    return Response(body, media_type=MEDIA_TYPES["xml"])


def error(fmt: str, exc: Open311Error) -> Response:
    response = render(
        fmt if fmt in MEDIA_TYPES else "xml",
        "errors",
        "error",
        [{"code": exc.status_code, "description": exc.description}],
    )
    response.status_code = exc.status_code
    return response
