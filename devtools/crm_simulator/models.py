"""What the simulated CRM keeps and answers: its cases in its own vocabulary, their changes,
the webhooks it sends, and the request bodies its REST API takes."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat

from devtools.crm_simulator.faults import Faults


class CaseStatus(enum.StrEnum):
    NEW = "NEW"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    SCHEDULED = "SCHEDULED"
    DONE = "DONE"
    NOT_CITY_MATTER = "NOT_CITY_MATTER"
    DUPLICATE = "DUPLICATE"
    CANNOT_FIX = "CANNOT_FIX"
    REOPENED = "REOPENED"


def _text_date_time(value: object) -> object:
    """A date-time comes as text (or already as one), never as a number of seconds."""
    if isinstance(value, (str, dt.datetime)):
        return value
    raise ValueError("a date-time is an ISO 8601 text")


# What the request bodies take: JSON's own types (a number for a coordinate), no text read
# as a number nor a number as a date-time.
DateTimeText = Annotated[dt.datetime, BeforeValidator(_text_date_time)]


class Location(BaseModel):
    lat: StrictFloat
    lon: StrictFloat


class CaseCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "external_ref": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
                    "title": "WRO-2026-000042",
                    "category": "pothole",
                    "unit": "zdium",
                    "description": "Deep pothole on the right lane",
                    "location": {"lat": 51.1097, "lon": 17.0326},
                    "reported_at": "2026-11-28T08:00:00Z",
                }
            ]
        }
    )

    external_ref: str = Field(min_length=1, max_length=200)
    title: str = ""
    category: str
    unit: str
    description: str = ""
    attributes: dict[str, str | int | float | bool] = {}
    location: Location
    reported_at: DateTimeText | None = None
    reporter: dict[str, str] | None = Field(
        default=None, description="Who to contact, when the resident agreed."
    )
    photos: list[str] = Field(
        default=[], description="Links to the report's photos (time-limited)."
    )


StatusCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][A-Z0-9_]{0,49}$",
        description="One of the built-in codes (NEW, ASSIGNED, IN_PROGRESS, SCHEDULED, DONE, "
        "NOT_CITY_MATTER, DUPLICATE, CANNOT_FIX, REOPENED), or any other upper-case code, as "
        "a city adds its own to its CRM (e.g. ON_HOLD).",
        examples=["IN_PROGRESS"],
    ),
]


class HistoryEntry(BaseModel):
    status: StatusCode
    note: str | None
    changed_at: dt.datetime


class CaseComment(BaseModel):
    comment: str
    added_at: dt.datetime


class Case(BaseModel):
    case_id: str
    external_ref: str
    title: str
    category: str
    unit: str
    description: str
    attributes: dict[str, str | int | float | bool]
    location: Location
    reporter: dict[str, str] | None = None
    photos: list[str] = []
    channel: str = Field(
        default="rest",
        description="How the case came in: `rest` (its changes are sent as webhooks) or "
        "`open311` (its changes are read by polling).",
    )
    status: StatusCode
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    history: list[HistoryEntry]
    comments: list[CaseComment] = Field(
        default_factory=list, description="Comments from the public, oldest first."
    )


class StatusChange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "IN_PROGRESS", "note": "Ekipa w drodze"}]
        }
    )

    status: StatusCode
    note: str | None = Field(default=None, max_length=2000)


class Reopen(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"comment": "Dziura nadal jest, zasypano ją tylko piaskiem."}]
        }
    )

    comment: str | None = Field(default=None, max_length=2000)


class CommentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"comment": "Nadal stoi na chodniku."}]}
    )

    comment: str = Field(min_length=1, max_length=2000)


class Update(BaseModel):
    """A status change as the webhook carries it, numbered in the order of all changes."""

    seq: int
    update_id: str
    case_id: str
    external_ref: str
    status: StatusCode
    note: str | None
    version: int
    changed_at: dt.datetime


class WebhookDelivery(BaseModel):
    update_id: str
    case_id: str
    status: StatusCode
    attempts: int
    delivered: bool
    last_error: str | None


_RULE_DEFAULTS = {
    "status": 503,
    "latency_seconds": 1.0,
    "hang_seconds": 300.0,
    "retry_after_seconds": 1,
}


class FaultsRead(Faults):
    # The answer some requests after the `Faults` example was put: every field of a rule is
    # given, and the `reset_after_commit` rule, fired once, has two of its three uses left.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rules": [
                        {
                            "kind": "error",
                            "rate": 0.3,
                            "count": None,
                            "operations": ["create"],
                            **_RULE_DEFAULTS,
                        },
                        {
                            "kind": "reset_after_commit",
                            "rate": 1.0,
                            "count": 2,
                            "operations": None,
                            **_RULE_DEFAULTS,
                        },
                    ],
                    "idempotent_creates": False,
                    "webhooks": {
                        "duplicate": True,
                        "order": "shuffled",
                        "hold_seconds": 0.5,
                    },
                    "injected": {"error": 4, "reset_after_commit": 1},
                }
            ]
        }
    )

    injected: dict[str, int] = Field(
        description="How many times each kind of fault fired since the last reset."
    )
