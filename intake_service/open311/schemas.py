"""The JSON form of the Open311 documents, for the API's documentation.

`service`, `discovery`, `filing` and `reading` build the documents as plain data and
`documents.render_list` / `render_object` write them; these models only describe what is
written. The JSON form drops members without a value (never `null`): such members are
optional here and never null.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from intake_service.open311.models import MediaState
from shared.contracts import ReportStatus
from shared.fields import omittable

DISCOVERY_EXAMPLE: dict[str, Any] = {
    "changeset": "2026-12-07T00:00:00Z",
    "contact": "Wrocław: https://mam.example/docs",
    "key_service": "python -m intake_service open311-key create --name CLIENT",
    "endpoints": [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "https://mam.example/open311/v2",
            "changeset": "2026-12-07T00:00:00Z",
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
    ],
}
SERVICE_EXAMPLE: dict[str, Any] = {
    "service_code": "pothole",
    "service_name": "Pothole",
    "description": "Pothole",
    "metadata": False,
    "type": "realtime",
    "keywords": "Roads and street furniture, zdium",
    "group": "Roads and street furniture",
}
SERVICE_DEFINITION_EXAMPLE: dict[str, Any] = {
    "service_code": "street_light_out",
    "attributes": [
        {
            "variable": True,
            "code": "lamp_post_number",
            "datatype": "string",
            "required": False,
            "datatype_description": "At most 20 characters.",
            "order": 1,
            "description": "Lamp-post number",
        }
    ],
}
REQUEST_CREATED_EXAMPLE: dict[str, Any] = {
    "service_request_id": "WRO-2026-000042",
    "service_notice": "Expected to be dealt with by 2026-12-08 10:00 UTC.",
}
SERVICE_REQUEST_EXAMPLE: dict[str, Any] = {
    "service_request_id": "WRO-2026-000042",
    "status": "open",
    "status_notes": "Ekipa w drodze",
    "service_name": "Pothole",
    "service_code": "pothole",
    "description": "Deep pothole on the right lane",
    "agency_responsible": "Roads and City Maintenance Board",
    "service_notice": "Expected to be dealt with by 2026-12-08 10:00 UTC.",
    "requested_datetime": "2026-12-01T10:00:00Z",
    "updated_datetime": "2026-12-01T11:30:00Z",
    "expected_datetime": "2026-12-08T10:00:00Z",
    "address": "",
    "lat": 51.1097,
    "long": 17.0326,
    "media_url": "https://mam.example/v1/photos/5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10",
}
TOKEN_EXAMPLE: dict[str, Any] = {
    "service_request_id": "WRO-2026-000042",
    "token": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
}
UPDATE_EXAMPLE: dict[str, Any] = {
    "update_id": "17",
    "service_request_id": "WRO-2026-000042",
    "status": "in_progress",
    "updated_datetime": "2026-12-01T11:30:00Z",
    "description": "Ekipa w drodze",
    "external_status_code": "in_progress",
    "media_url": "",
}
UPDATE_POSTED_EXAMPLE: dict[str, Any] = {
    "update_id": "3f0c6a8e-2b1d-4e5f-9a7c-1d2e3f4a5b6c",
}
MEDIA_LINK_EXAMPLE: dict[str, Any] = {
    "report_id": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
    "report_number": "WRO-2026-000042",
    "url": "https://fixmystreet.example/photo/17.jpeg",
    "state": "failed",
    "attempts": 1,
    "failure": "status",
    "failure_text": "the server answered with an error.",
    "last_error": "HTTP 404",
    "photo_id": None,
    "next_attempt_at": "2026-12-01T10:00:00Z",
    "created_at": "2026-12-01T10:00:00Z",
    "finished_at": "2026-12-01T10:00:01Z",
}


class Open311Error(BaseModel):
    """An Open311 error: GeoReport v2 answers a list of them, not a problem (RFC 9457)."""

    code: int = Field(description="The HTTP status code.", examples=[404])
    description: str = Field(
        description="What is wrong, in the language asked for.",
        examples=["There is no service request 'WRO-2026-999999'."],
    )


class Open311Endpoint(BaseModel):
    """One GeoReport v2 endpoint of this service."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [DISCOVERY_EXAMPLE["endpoints"][0]]}
    )

    specification: str = Field(
        description="The specification it implements.",
        examples=["http://wiki.open311.org/GeoReport_v2"],
    )
    url: str = Field(
        description="Its base address; resources are below it, with `.xml` or `.json`.",
        examples=["https://mam.example/open311/v2"],
    )
    changeset: dt.datetime = Field(description="When it last changed.")
    type: Literal["production", "test"] = Field(description="Always `production`.")
    formats: list[Literal["text/xml", "application/json"]] = Field(
        description="The formats it answers in."
    )


class Open311Discovery(BaseModel):
    """Where this GeoReport v2 endpoint is, its formats and whom to ask for a key."""

    model_config = ConfigDict(json_schema_extra={"examples": [DISCOVERY_EXAMPLE]})

    changeset: dt.datetime = Field(description="When the discovery last changed.")
    contact: str = Field(description="The city and where this API is documented.")
    key_service: str = Field(
        description="How the city makes a client's `api_key` (needed to file requests)."
    )
    endpoints: list[Open311Endpoint]


class Open311Service(BaseModel):
    """A report category as an Open311 service, named in the language asked for."""

    model_config = ConfigDict(json_schema_extra={"examples": [SERVICE_EXAMPLE]})

    service_code: str = Field(
        description="The category's code: a request's `service_code`."
    )
    service_name: str = Field(description="The category's name.")
    description: str = Field(
        description="The category's name (there is no longer text)."
    )
    metadata: bool = Field(
        description="Whether the service has attributes (see its service definition)."
    )
    type: Literal["realtime", "batch"] = Field(
        description="`realtime`: a POST answers the request's id; `batch`: a `token`."
    )
    keywords: str = Field(
        description="The category's group and its responsible unit's code, by commas."
    )
    group: str = Field(description="The category's group.")


class Open311AttributeValue(BaseModel):
    """One choice of a `singlevaluelist` attribute."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"key": "true", "name": "Yes"}]}
    )

    key: str = Field(
        description="What to send as the attribute's value.", examples=["true"]
    )
    name: str = Field(description="Its label.", examples=["Yes"])


class Open311Attribute(BaseModel):
    """An extra field a request of the service carries as `attribute[CODE]`."""

    model_config = ConfigDict(
        json_schema_extra={"examples": SERVICE_DEFINITION_EXAMPLE["attributes"]}
    )

    variable: bool = Field(description="Always true: the client gives the value.")
    code: str = Field(description="The `CODE` of `attribute[CODE]`.")
    datatype: Literal["string", "number", "singlevaluelist"] = Field(
        description="`string`, `number` (a whole number or not) or `singlevaluelist` "
        "(one of `values`)."
    )
    required: bool = Field(description="Whether a request must give it.")
    datatype_description: str = omittable(
        description="What the value must look like, where there is more to say than `datatype`."
    )
    order: int = Field(ge=1, description="Its place among the attributes, from 1.")
    description: str = Field(description="Its label in the language asked for.")
    values: list[Open311AttributeValue] = omittable(
        description="The choices of a `singlevaluelist`."
    )


class Open311ServiceDefinition(BaseModel):
    """The attributes a request of a service carries."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [SERVICE_DEFINITION_EXAMPLE]}
    )

    service_code: str = Field(description="The service's code.")
    attributes: list[Open311Attribute] = Field(description="In the order to ask them.")


class Open311RequestCreated(BaseModel):
    """The answer to a filed request: its id (`realtime`) or a token (`batch`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [REQUEST_CREATED_EXAMPLE]})

    service_request_id: str = omittable(
        description="The request's id (the report's number), on a `realtime` service."
    )
    token: str = omittable(
        description="On a `batch` service: read `GET tokens/{token}` for the id once the city's CRM "
        "has the request."
    )
    service_notice: str = Field(
        description="When the city expects to have dealt with it, and any similar open "
        "reports nearby."
    )


class Open311ServiceRequest(BaseModel):
    """A service request (a report) as GeoReport v2 lists it; never who filed it."""

    model_config = ConfigDict(json_schema_extra={"examples": [SERVICE_REQUEST_EXAMPLE]})

    service_request_id: str = Field(description="The report's number.")
    status: Literal["open", "closed"] = Field(description="`open` or `closed`.")
    status_notes: str = omittable(
        description="The latest note of the responsible unit, if it gave one."
    )
    service_name: str = Field(description="The service's name.")
    service_code: str = Field(description="The service's code.")
    description: str = Field(description="What is wrong, as the resident wrote it.")
    agency_responsible: str = omittable(
        description="The responsible city unit, once the CRM has the case."
    )
    service_notice: str = Field(
        description="When the city expects to have dealt with it."
    )
    requested_datetime: dt.datetime = Field(description="When it was filed.")
    updated_datetime: dt.datetime = Field(description="When it last changed.")
    expected_datetime: dt.datetime = Field(
        description="When the city aims to have it resolved."
    )
    address: Literal[""] = Field(
        description="Always empty: there is no geocoder; the position is `lat`/`long`."
    )
    lat: float = Field(ge=-90, le=90, description="Latitude (WGS 84).")
    long: float = Field(ge=-180, le=180, description="Longitude (WGS 84).")
    media_url: str = omittable(
        description="The first photo (JPEG), if the report has photos."
    )


class Open311Token(BaseModel):
    """The request of a `batch` token: the token alone until the city's CRM has it."""

    model_config = ConfigDict(json_schema_extra={"examples": [TOKEN_EXAMPLE]})

    service_request_id: str = omittable(
        description="The request's id, once the city's CRM has the request."
    )
    token: str = Field(description="The token asked about.")


class Open311ServiceRequestUpdate(BaseModel):
    """A status change of a request (mySociety's `servicerequestupdates` extension)."""

    model_config = ConfigDict(json_schema_extra={"examples": [UPDATE_EXAMPLE]})

    update_id: str = Field(description="The change's id.")
    service_request_id: str = Field(description="The request's id.")
    status: Literal["open", "in_progress", "fixed", "closed", "reopen"] = Field(
        description="The new status, as the extension names it."
    )
    updated_datetime: dt.datetime = Field(description="When the status changed.")
    description: str = Field(description="The unit's note; empty without one.")
    external_status_code: ReportStatus = Field(description="Our own status.")
    media_url: Literal[""] = Field(description="Always empty.")


class Open311UpdatePosted(BaseModel):
    """The answer to a posted update: its id here."""

    model_config = ConfigDict(json_schema_extra={"examples": [UPDATE_POSTED_EXAMPLE]})

    update_id: str = Field(
        description="This server's id of the update (the same for the same update sent "
        "again); the CRM gets it as the comment's or reopen's idempotency key."
    )


class MediaLinkRead(BaseModel):
    """A `media_url` an Open311 client sent with a request, and what became of it."""

    model_config = ConfigDict(json_schema_extra={"examples": [MEDIA_LINK_EXAMPLE]})

    report_id: uuid.UUID = Field(description="The report it came with.")
    report_number: str = Field(description="The report's number.")
    url: str = Field(description="The link as the client sent it.")
    state: MediaState = Field(
        description="`pending` (to be tried, at `next_attempt_at`), `in_flight` (being "
        "fetched), `fetched` (the report has the photo: `photo_id`) or `failed` (given up)."
    )
    attempts: int = Field(description="Attempts made so far.")
    failure: str | None = Field(
        description="Why the last attempt failed: `scheme`, `private`, `unreachable`, "
        "`status`, `too_large`, `not_a_photo`, `store` or `internal`."
    )
    failure_text: str | None = Field(
        description="The same in words, in the language asked for."
    )
    last_error: str | None = Field(
        description="The detail of the last failure, e.g. `HTTP 404` or `ConnectTimeout`."
    )
    photo_id: uuid.UUID | None = Field(description="The photo it became, once fetched.")
    next_attempt_at: dt.datetime = Field(description="When it is (or was) tried next.")
    created_at: dt.datetime = Field(description="When the request came with it.")
    finished_at: dt.datetime | None = Field(
        description="When it was fetched or given up."
    )
