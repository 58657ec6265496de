"""Open311's two formats as the simulator writes them: XML records and bare JSON arrays,
Open311 errors, W3C date-times, form fields."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Response

from shared.w3c import parse_w3c

MEDIA_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json"}
# The dates a query may name: none a case can have been made or changed outside of.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


class Open311Error(Exception):
    def __init__(self, status_code: int, description: str) -> None:
        super().__init__(description)
        self.status_code = status_code
        self.description = description


def parse_date(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None  # given but empty is no date either: a 400 like any other
    try:
        moment = parse_w3c(value)
    except ValueError:
        raise Open311Error(
            400, f"{name} is not a W3C date-time with its zone"
        ) from None
    out_of_range = Open311Error(400, f"{name} is not between 1970 and 9000")
    try:
        moment = moment.astimezone(dt.UTC)
    except OverflowError:  # year 1 or 9999 moved past the calendar's end
        raise out_of_range from None
    if not EARLIEST <= moment <= LATEST:
        raise out_of_range
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


# The OpenAPI description of the Open311 operations. Their answers are XML or JSON by the
# path's format, so they are described here rather than by response models.

_ERROR_STATUS = {
    400: "A field is missing or malformed (a date, the location, the form itself).",
    403: "The `api_key` is missing or wrong.",
    404: "No such format (only `xml` and `json`), jurisdiction, service code, request "
    "or token.",
}
_ERROR_EXAMPLES = {
    400: "service_code not provided",
    403: "missing or wrong api_key",
    404: "no format 'yaml': use xml or json",
}


def format_parameter() -> dict[str, Any]:
    return {
        "name": "fmt",
        "in": "path",
        "required": True,
        "description": "`xml` or `json`. Any other format answers 404, an Open311 error "
        "in XML.",
        "schema": {"type": "string", "enum": list(MEDIA_TYPES)},
        "example": "json",
    }


def path_parameter(name: str, description: str, example: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }


def query_parameter(
    name: str, description: str, example: str, **schema: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
        "example": example,
    }


JURISDICTION = query_parameter(
    "jurisdiction_id",
    "The city; a jurisdiction other than the one the simulator serves answers 404.",
    "wroclaw.pl",
)


def _body(xml_example: str, json_example: Any, json_schema: dict[str, Any]) -> Any:
    return {
        "text/xml": {"schema": {"type": "string"}, "example": xml_example},
        "application/json": {"schema": json_schema, "example": json_example},
    }


def operation(
    *,
    parameters: Sequence[Mapping[str, Any]],
    answer: str,
    xml_example: str,
    json_example: Any,
    errors: Sequence[int],
    form: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`openapi_extra` of an Open311 operation: its parameters, its form body if any, its
    answer in both formats and the Open311 errors it can give."""
    records = {"type": "array", "items": {"type": "object"}}
    error_schema = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "code": {"type": "integer"},
                "description": {"type": "string"},
            },
            "required": ["code", "description"],
        },
    }
    responses: dict[str, Any] = {
        "200": {
            "description": answer,
            "content": _body(
                xml_example,
                json_example,
                {"type": "object"} if isinstance(json_example, dict) else records,
            ),
        }
    }
    for status in errors:
        text = _ERROR_EXAMPLES[status]
        responses[str(status)] = {
            "description": _ERROR_STATUS[status] + " An Open311 error, in the path's "
            "format (XML for an unknown format).",
            "content": _body(
                '<?xml version="1.0" encoding="utf-8"?><errors><error>'
                f"<code>{status}</code><description>{text}</description></error></errors>",
                [{"code": status, "description": text}],
                error_schema,
            ),
        }
    extra: dict[str, Any] = {"parameters": list(parameters), "responses": responses}
    if form is not None:
        schema = {"type": "object", **form}
        extra["requestBody"] = {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": schema},
                "multipart/form-data": {"schema": schema},
            },
        }
    return extra
