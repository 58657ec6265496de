"""The OpenAPI description of the Open311 operations (`openapi_extra`): their parameters,
form bodies, and answers in both formats with examples."""

from __future__ import annotations

from typing import Any

from devtools.crm_simulator.open311_format import (
    JURISDICTION,
    format_parameter,
    operation,
    path_parameter,
    query_parameter,
)
from devtools.crm_simulator.open311_records import CODE, PREFIX, SPEC

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
BAD_BODY: dict[int | str, dict[str, Any]] = {
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
}
"""The answer to a JSON body of the mode that cannot be decoded."""

DISCOVERY = operation(
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
)

SERVICES = operation(
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
)

CREATE_REQUEST = operation(
    parameters=[format_parameter()],
    answer="The new request's id, or in batch mode a token.",
    xml_example=XML + "<service_requests><request>"
    "<service_request_id>CRM-000042</service_request_id>"
    "<service_notice>Thank you</service_notice></request></service_requests>",
    json_example=[{"service_request_id": "CRM-000042", "service_notice": "Thank you"}],
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
)

READ_TOKEN = operation(
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
)

LIST_REQUESTS = operation(
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
        query_parameter("service_code", "Service codes, comma-separated.", "pothole"),
    ],
    answer="The requests found.",
    xml_example=XML + "<service_requests><request>"
    "<service_request_id>CRM-000042</service_request_id><status>open</status>"
    "…</request></service_requests>",
    json_example=[RECORD_EXAMPLE],
    errors=[400, 404],
)

READ_REQUEST = operation(
    parameters=[REQUEST_ID, format_parameter(), JURISDICTION],
    answer="The request, as a list of one.",
    xml_example=XML + "<service_requests><request>"
    "<service_request_id>CRM-000042</service_request_id><status>open</status>"
    "…</request></service_requests>",
    json_example=[RECORD_EXAMPLE],
    errors=[404],
)

LIST_UPDATES = operation(
    parameters=[format_parameter(), JURISDICTION, *DATES],
    answer="The status updates, oldest first.",
    xml_example=XML + "<service_request_updates><request_update>"
    "<update_id>7d1f7e0a-2b7c-4c55-9a43-1d3b2f0f4a11</update_id>…"
    "</request_update></service_request_updates>",
    json_example=[UPDATE_EXAMPLE],
    errors=[400, 404],
)

POST_UPDATE = operation(
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
)
