"""`/open311/v2/…`: the Open311 GeoReport v2 server (with the mySociety update feed).

Every resource answers in XML (`.xml`, what CRM-side clients speak) and JSON (`.json`, bare
arrays); errors are Open311 `errors` in the same format, with 400, 403 or 404.

The routes are in `discovery` (discovery and services), `filing` (POST requests),
`reading` (requests, tokens and updates) and `updates` (POST updates); their OpenAPI texts in
`openapi`. Staff see the photo links of requests at `operator.operator_router`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response

from intake_service.open311 import discovery, filing, reading, updates
from intake_service.open311.documents import Format, render_errors
from intake_service.open311.params import PREFIX as PREFIX
from shared.routes import Router

# Each part carries the prefix itself: its routes hold their whole paths (which
# `shared.errors.allowed_methods` matches a request against).
router = Router()
router.include_router(discovery.router)
router.include_router(filing.router)
router.include_router(reading.router)
router.include_router(updates.router)


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
