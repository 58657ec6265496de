"""Open311 documents in XML and JSON, and W3C date-times (pure).

The JSON form is the spec's "Spark convention" of the XML: the root element is dropped and
list containers become arrays, so lists are bare top-level arrays (clients index `[0]`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from xml.etree import ElementTree

from fastapi import Response

from shared.w3c import format_w3c

Format = Literal["xml", "json"]

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"

# The element name of one entry in each list container.
_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "groups": "group",
}

Document = Mapping[str, Any]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return format_w3c(value)
    return str(value)


def _append(parent: ElementTree.Element, name: str, value: Any) -> None:
    if value is None:
        return
    element = ElementTree.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _append(element, key, inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            _append(element, _ITEMS.get(name, name), inner)
    else:
        element.text = _text(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dt.datetime):
        return format_w3c(value)
    return value


def _xml(root: ElementTree.Element) -> bytes:
    body: bytes = ElementTree.tostring(root, encoding="unicode").encode()
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def render_list(
    fmt: Format, root: str, item: str, items: Sequence[Document], status: int = 200
) -> Response:
    """A list document: `<root><item>…</item>…</root>`, or a bare JSON array."""
    if fmt == "json":
        body = json.dumps([_json_value(i) for i in items], ensure_ascii=False)
        return Response(body.encode(), status_code=status, media_type=JSON_TYPE)
    element = ElementTree.Element(root)
    for entry in items:
        _append(element, item, entry)
    return Response(_xml(element), status_code=status, media_type=XML_TYPE)


def render_object(fmt: Format, root: str, document: Document) -> Response:
    """One document (discovery, a service definition): `<root>…</root>` or a JSON object."""
    if fmt == "json":
        body = json.dumps(_json_value(document), ensure_ascii=False)
        return Response(body.encode(), media_type=JSON_TYPE)
    element = ElementTree.Element(root)
    for key, value in document.items():
        _append(element, key, value)
    return Response(_xml(element), media_type=XML_TYPE)


def render_errors(
    fmt: Format, status: int, errors: Sequence[tuple[int, str]]
) -> Response:
    """Open311 errors: `<errors><error><code/><description/></error></errors>` or
    `[{"code", "description"}]`, with the HTTP status."""
    return render_list(
        fmt,
        "errors",
        "error",
        [{"code": code, "description": text} for code, text in errors],
        status=status,
    )
