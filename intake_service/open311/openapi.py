"""The Open311 routes' OpenAPI texts: descriptions, examples and documented responses.

Each route's long description and its `responses` (the document in XML and JSON, and the
Open311 `errors` it may answer) are constants here, so that the routes read as code.
"""

from __future__ import annotations

from typing import Any

from intake_service.open311.documents import JSON_TYPE, XML_TYPE
from intake_service.open311.media_queue import MAX_URL_LENGTH
from intake_service.open311.params import MAX_PAGE_SIZE
from intake_service.open311.schemas import (
    DISCOVERY_EXAMPLE,
    REQUEST_CREATED_EXAMPLE,
    SERVICE_DEFINITION_EXAMPLE,
    SERVICE_EXAMPLE,
    SERVICE_REQUEST_EXAMPLE,
    TOKEN_EXAMPLE,
    UPDATE_EXAMPLE,
    UPDATE_POSTED_EXAMPLE,
    Open311Discovery,
    Open311Error,
    Open311RequestCreated,
    Open311Service,
    Open311ServiceDefinition,
    Open311ServiceRequest,
    Open311ServiceRequestUpdate,
    Open311Token,
    Open311UpdatePosted,
)
from intake_service.open311.service import MAX_DAYS
from intake_service.open311.update_service import STATUSES

_ERROR_EXAMPLE_XML = (
    '<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>404</code>'
    "<description>There is no service request 'WRO-2026-999999'.</description></error>"
    "</errors>"
)
_ERROR_TEXTS = {
    400: "The request cannot be fulfilled (a parameter is missing or wrong, or the "
    "address holds a NUL character).",
    403: "`api_key` missing or wrong.",
    404: "No such service, request, token or jurisdiction (or format).",
    500: "Something failed on our side; nothing was half-stored.",
}


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": _ERROR_TEXTS[status],
        # Open311's own error form, the JSON one described by its component.
        "model": list[Open311Error],
        "content": {
            XML_TYPE.split(";")[0]: {
                "schema": {"type": "string"},
                "example": _ERROR_EXAMPLE_XML,
            },
            JSON_TYPE.split(";")[0]: {
                "example": [
                    {
                        "code": 404,
                        "description": "There is no service request 'WRO-2026-999999'.",
                    }
                ],
            },
        },
    }


def documented(
    example_xml: str, model: Any, example_json: Any, *errors: int
) -> dict[int | str, dict[str, Any]]:
    """The responses of a route: its document in both formats, and its errors.

    `model` describes the JSON form (`list[…]` for a list document); FastAPI gives its
    schema to `application/json`, the routes' form besides XML."""
    responses: dict[int | str, dict[str, Any]] = {
        200: {
            "description": "The document, in the format the suffix names.",
            "model": model,
            "content": {
                XML_TYPE.split(";")[0]: {
                    "schema": {"type": "string"},
                    "example": example_xml,
                },
                JSON_TYPE.split(";")[0]: {"example": example_json},
            },
        }
    }
    # A NUL in the address is a 400 on every operation (`NulGuardMiddleware`).
    for status in (*errors, 400, 404, 500):
        responses[status] = _error_response(status)
    return responses


# --- discovery and services ----------------------------------------------------------------

DISCOVERY_RESPONSES = documented(
    "<discovery><changeset>…</changeset><endpoints><endpoint>…</endpoint></endpoints>"
    "</discovery>",
    Open311Discovery,
    DISCOVERY_EXAMPLE,
)

SERVICES_DESCRIPTION = (
    "The active categories as Open311 services, names in the language of "
    "`locale` or Accept-Language. `metadata` is true where the category has attributes "
    "(see the service definition)."
)
SERVICES_RESPONSES = documented(
    "<services><service><service_code>pothole</service_code><service_name>Pothole"
    "</service_name>…</service></services>",
    list[Open311Service],
    [SERVICE_EXAMPLE],
)

SERVICE_DEFINITION_RESPONSES = documented(
    "<service_definition><service_code>street_light_out</service_code><attributes>"
    "<attribute><variable>true</variable><code>lamp_post_number</code>…</attribute>"
    "</attributes></service_definition>",
    Open311ServiceDefinition,
    SERVICE_DEFINITION_EXAMPLE,
)

# --- filing a request ----------------------------------------------------------------------

CREATE_REQUEST_DESCRIPTION = (
    "Form-encoded (`application/x-www-form-urlencoded`) or `multipart/form-data` "
    "with photos (any file fields: `media`, `media[]`, `photo1`…), as GeoReport v2 and its "
    "clients send it: `api_key` (required), `service_code`, `lat` + `long`, `description`, "
    "`attribute[CODE]` / `attribute[CODE][]`, `media_url` (one or repeated), and "
    "optionally `email`, `first_name`, `last_name` (passed to the city's CRM for "
    "follow-up, never shown publicly). The request goes through the same checks and "
    "pipeline as the resident API. Answers the request's id (`realtime`) or a `token` "
    "(`batch`), and a `service_notice` with the expected resolution time and any similar "
    "open reports nearby.\n\n"
    "A `media_url` never holds the request up nor refuses it: the request is filed and "
    "answered at once, and the photo is fetched in the background (only over http(s) "
    "from public addresses, without redirects, within the time and size limits, then "
    "checked and cleaned like an upload), with retries while its host does not answer. "
    "Once it arrives it is the request's `media_url` (a copy served here); until then, "
    "and if it never does, the record has none. The city's CRM gets the request with the "
    "photo when it arrives within a short wait, and without it after that. A request "
    "without `lat`/`long` is the exception: its position is taken from the photo, which "
    "is then fetched before answering (a photo that cannot be had is a 400)."
)
CREATE_REQUEST_RESPONSES = documented(
    "<service_requests><request><service_request_id>WRO-2026-000042"
    "</service_request_id><service_notice>Expected to be dealt with by …"
    "</service_notice></request></service_requests>",
    list[Open311RequestCreated],
    [REQUEST_CREATED_EXAMPLE],
    400,
    403,
)
CREATE_REQUEST_BODY: dict[str, Any] = {
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
                        "media_url": {"type": "string", "maxLength": MAX_URL_LENGTH},
                    },
                    "additionalProperties": {"type": "string"},
                },
                "example": {
                    "api_key": "mam_o311_…",
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
}

# --- reading requests ----------------------------------------------------------------------

_REQUEST_EXAMPLE_XML = (
    "<service_requests><request><service_request_id>WRO-2026-000042"
    "</service_request_id><status>open</status>…</request></service_requests>"
)

LIST_REQUESTS_DESCRIPTION = (
    "Requests newest first. `service_request_id` (a comma list) overrides the "
    "other filters; otherwise `service_code` (comma list), `start_date` / `end_date` (W3C "
    "date-times with `Z` or an offset, on `requested_datetime`; at most "
    f"{MAX_DAYS} days apart, the last {MAX_DAYS} days by default) and `status` (`open`, "
    "`closed`). Pages: `page` (from 1) and "
    f"`page_size` (at most {MAX_PAGE_SIZE}). Never the reporter's identity."
)
LIST_REQUESTS_RESPONSES = documented(
    _REQUEST_EXAMPLE_XML, list[Open311ServiceRequest], [SERVICE_REQUEST_EXAMPLE], 400
)
PAGE_SIZE_DESCRIPTION = (
    f"Requests per page, 1 to {MAX_PAGE_SIZE} ({MAX_PAGE_SIZE} by default)."
)

READ_REQUEST_RESPONSES = documented(
    _REQUEST_EXAMPLE_XML, list[Open311ServiceRequest], [SERVICE_REQUEST_EXAMPLE]
)

TOKEN_DESCRIPTION = (
    "After a `batch` POST: the token with its `service_request_id` once the "
    "city's CRM has taken the request (until then the token alone)."
)
TOKEN_RESPONSES = documented(
    "<service_requests><request><service_request_id>WRO-2026-000042"
    "</service_request_id><token>0b9d5c1e-…</token></request></service_requests>",
    list[Open311Token],
    [TOKEN_EXAMPLE],
)

UPDATES_DESCRIPTION = (
    "Every status change in the window (`start_date` / `end_date`, W3C; the "
    "last 24 hours by default), oldest first, as `request_update`s: `update_id`, "
    "`service_request_id`, `status` (`open`, `in_progress`, `fixed`, `closed`, `reopen`), "
    "`updated_datetime`, `description` (the unit's note) and `external_status_code` (our "
    "status). Clients follow requests by reading it periodically."
)
UPDATES_RESPONSES = documented(
    "<service_request_updates><request_update><update_id>17</update_id>…"
    "</request_update></service_request_updates>",
    list[Open311ServiceRequestUpdate],
    [UPDATE_EXAMPLE],
    400,
)

POST_UPDATE_DESCRIPTION = (
    "A comment on a request, or its reopening, as FixMyStreet posts its users' updates: "
    "form-encoded (or multipart: files are not kept) with `api_key` (required), "
    "`service_request_id`, `update_id` (the client's own id of the update), `status` (the "
    "extension's upper-case statuses: `OPEN`, `CLOSED`, `FIXED`, `IN_PROGRESS`, `REOPEN`, "
    "`UNCHANGED`…), `updated_datetime` (W3C) and `description` (at most 2000 characters); "
    "`email`, `first_name`, `last_name` are taken and not kept, `media_url` is not "
    "fetched.\n\n"
    "`OPEN` or `REOPEN` on a resolved request reopens it, as its reporter saying it is not "
    "fixed would: it is open again at once and the city's CRM case is reopened with the "
    "description. Any other update (and one on a request that is open, or rejected: the "
    "unit's decision stands) reaches the CRM case as a comment, marked fixed when the "
    "status is `FIXED` or `CLOSED`. Comments are for the unit, never shown publicly. The "
    "same `update_id` sent again by the same client is answered with the same `update_id` "
    "and does nothing more; another update under it is a 400. Answers this server's id of "
    "the update."
)
POST_UPDATE_RESPONSES = documented(
    "<service_request_updates><request_update><update_id>3f0c6a8e-…</update_id>"
    "</request_update></service_request_updates>",
    list[Open311UpdatePosted],
    [UPDATE_POSTED_EXAMPLE],
    400,
    403,
)
_FILLED = {
    "pattern": "[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
    "\u205f\u3000]"
}
"""A field that must hold more than whitespace (what `str.strip` removes)."""

POST_UPDATE_BODY: dict[str, Any] = {
    # Multipart (with files, which are not kept) is taken too, with the same fields.
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": [
                        "api_key",
                        "service_request_id",
                        "update_id",
                        "status",
                        "updated_datetime",
                        "description",
                    ],
                    "properties": {
                        "api_key": {"type": "string"},
                        "jurisdiction_id": {"type": "string"},
                        "service_request_id": {"type": "string", **_FILLED},
                        "update_id": {"type": "string", "maxLength": 100, **_FILLED},
                        "status": {
                            "type": "string",
                            "enum": [*STATUSES, *(s.lower() for s in STATUSES)],
                        },
                        "updated_datetime": {"type": "string", "format": "date-time"},
                        "description": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 2000,
                            **_FILLED,
                        },
                        "email": {"type": "string"},
                        "first_name": {"type": "string"},
                        "last_name": {"type": "string"},
                        "media_url": {"type": "string"},
                    },
                    "additionalProperties": {"type": "string"},
                },
                "example": {
                    "api_key": "mam_o311_…",
                    "service_request_id": "WRO-2026-000042",
                    "update_id": "8812",
                    "status": "OPEN",
                    "updated_datetime": "2026-12-09T08:15:00+01:00",
                    "description": "Still there after the rain",
                },
            },
        },
    }
}
