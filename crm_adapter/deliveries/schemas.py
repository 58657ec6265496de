"""API shapes of deliveries, their attempts and the connectors' breakers."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from crm_adapter.deliveries.breaker import BreakerState
from crm_adapter.deliveries.models import DeliveryKind, Outcome
from shared.params import Timestamp, WholeNumber
from shared.text import Text

_CASE_ID = "5b0f7a0e-3c1d-4e8f-9a6b-2d7c1e0f4a93"
_REPORT_ID = "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its turn, being tried, or retrying
    DEAD = "dead"  # refused, or the retry budget ran out: held for an operator
    DONE = "done"  # the CRM has it


class AttemptRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "attempt": 2,
                    "started_at": "2026-11-28T08:00:05Z",
                    "duration_ms": 30004,
                    "outcome": "retry",
                    "http_status": None,
                    "error": "ReadTimeout: timed out",
                }
            ]
        },
    )

    attempt: int = Field(
        description="The attempt's number since the delivery was queued or last replayed."
    )
    started_at: dt.datetime
    duration_ms: int
    outcome: Outcome = Field(
        description="`delivered`; `skipped_by_lookup`: the CRM already had the case (an "
        "earlier attempt's answer was lost), so nothing was created; `retry`; `dead`."
    )
    http_status: int | None = Field(description="The CRM's answer, when it gave one.")
    error: str | None


_REFUSED = 'HTTP 422: {"detail": "unknown category"}'
_DEAD_CREATE: dict[str, JsonValue] = {
    "id": _CASE_ID,
    "kind": "create",
    "case_id": _CASE_ID,
    "report_id": _REPORT_ID,
    "connector": "rest_json",
    "state": "dead",
    "attempts": 1,
    "last_error": _REFUSED,
    "next_attempt_at": None,
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:01Z",
}


class DeliveryRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DEAD_CREATE]})

    id: uuid.UUID = Field(
        description="For `kind` `create` the case's id (the same as `case_id`), for the "
        "other kinds the action's id (intake's id of the reopen or comment). Both are "
        "UUIDs and never collide; `kind` tells them apart."
    )
    kind: DeliveryKind = Field(
        description="`create`: the case's creation in the CRM; `reopen`, `comment`, "
        "`erase_contact`: a resident's request passed to the case."
    )
    case_id: uuid.UUID
    report_id: uuid.UUID = Field(description="Intake's report id (external reference).")
    connector: str | None = Field(description="The CRM connector it goes through.")
    state: DeliveryState
    attempts: int = Field(
        description="Attempts since it was queued or last replayed; attempts not made "
        "while the connector's breaker was open are not counted."
    )
    last_error: str | None
    next_attempt_at: dt.datetime | None = Field(
        description="When it is tried next (null unless pending)."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class DeliveryDetail(DeliveryRead):
    # The CRM refused the case at its first attempt: dead at once, held for an operator.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_DEAD_CREATE,
                    "log": [
                        {
                            "attempt": 1,
                            "started_at": "2026-11-28T08:00:00Z",
                            "duration_ms": 412,
                            "outcome": "dead",
                            "http_status": 422,
                            "error": _REFUSED,
                        }
                    ],
                }
            ]
        }
    )

    log: list[AttemptRead] = Field(description="Every attempt, oldest first.")


class DeliveryPage(BaseModel):
    items: list[DeliveryRead] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class CaseDeliveries(BaseModel):
    case_id: uuid.UUID
    report_id: uuid.UUID
    deliveries: list[DeliveryDetail] = Field(
        description="The case's creation first, then its actions in the order they reach "
        "the CRM (none while the case is unroutable)."
    )


class Replay(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "CRM category list fixed (ticket OPS-1234)"}]
        },
    )

    reason: Text | None = Field(
        default=None,
        max_length=500,
        description="Why it is replayed, kept in the audit log.",
    )


_DAY = 24 * 3600

_POLLING: dict[str, JsonValue] = {
    "enabled": True,
    "interval_seconds": 300.0,
    "cursor": "2026-11-28T07:55:00Z",
    "last_run_at": "2026-11-28T08:00:00Z",
    "last_success_at": "2026-11-28T07:55:00Z",
    "last_error": "HTTP 503: Service Unavailable",
}


class PollingRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_POLLING]})

    enabled: bool = Field(
        description="Whether this adapter polls the connector now (its settings); a "
        "connector polled before keeps its record when polling is switched off."
    )
    interval_seconds: float | None = Field(
        description="How often it is polled (null when polling is off): for a CRM with "
        "webhooks, the daily reconciliation sweep unless frequent polling is on."
    )
    cursor: str | None = Field(
        description="Where the next poll goes on from (the connector's own form), stored "
        "only after the changes read up to it are."
    )
    last_run_at: dt.datetime | None = Field(description="When the last poll ended.")
    last_success_at: dt.datetime | None = Field(
        description="When the last poll that read the CRM's changes to their end ended "
        "(a poller catching up page after page sets it at the last page)."
    )
    last_error: str | None = Field(
        description="Why the last poll failed; null when it succeeded."
    )


# Opened by five failures in a row, for the usual minute.
_OPENED: dict[str, JsonValue] = {
    "name": "rest_json",
    "configured": True,
    "breaker": "open",
    "consecutive_failures": 5,
    "opened_at": "2026-11-28T08:00:00Z",
    "open_until": "2026-11-28T08:01:00Z",
    "last_error": "HTTP 503: Service Unavailable",
    "tripped_by": None,
    "trip_reason": None,
    "polling": {
        "enabled": True,
        "interval_seconds": 86400.0,
        "cursor": "5120",
        "last_run_at": "2026-11-28T03:00:00Z",
        "last_success_at": "2026-11-28T03:00:00Z",
        "last_error": None,
    },
}


class ConnectorRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _OPENED,
                {
                    "name": "open311",
                    "configured": True,
                    "breaker": "open",
                    "consecutive_failures": 0,
                    "opened_at": "2026-11-28T06:00:00Z",
                    "open_until": None,
                    "last_error": None,
                    "tripped_by": "ops-jan",
                    "trip_reason": "CRM maintenance window (ticket OPS-1240)",
                    "polling": _POLLING,
                },
            ]
        }
    )

    name: str
    configured: bool = Field(
        description="False for a connector only seen in the breakers' or pollers' records."
    )
    breaker: BreakerState = Field(
        description="`closed`: deliveries go; `open`: nothing is claimed for this "
        "connector until `open_until`; `half_open`: the next due delivery is sent as a "
        "probe that closes or reopens it."
    )
    consecutive_failures: int
    opened_at: dt.datetime | None
    open_until: dt.datetime | None = Field(
        description="When an open breaker goes half-open; null while closed, or while an "
        "operator holds it open until they reset it."
    )
    last_error: str | None
    tripped_by: str | None = Field(
        description="The operator who tripped it by hand, while that period lasts: no "
        "answer of an attempt made before closes it meanwhile."
    )
    trip_reason: str | None = Field(description="Why, as the operator gave it.")
    polling: PollingRead | None = Field(
        description="Its poller (status changes read from the CRM), if it is or was polled."
    )


class ConnectorReset(ConnectorRead):
    # `_OPENED` reset: closed, its last error kept, its waiting deliveries due now.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_OPENED,
                    "breaker": "closed",
                    "consecutive_failures": 0,
                    "opened_at": None,
                    "open_until": None,
                    "deliveries_due_now": 12,
                }
            ]
        }
    )

    deliveries_due_now: int = Field(
        description="The connector's deliveries waiting out a retry delay that were made "
        "due now."
    )


class Trip(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"seconds": 1800, "reason": "CRM maintenance window (ticket OPS-1240)"}
            ]
        },
    )

    seconds: float | None = Field(
        default=None,
        gt=0,
        le=30 * _DAY,
        description="How long it stays open before it goes half-open and probes; "
        "without it, until an operator resets it.",
    )
    reason: Text | None = Field(
        default=None,
        max_length=500,
        description="Why, shown with the connector and kept in the audit log.",
    )


class Reset(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "CRM back after maintenance"}]},
    )

    reason: Text | None = Field(
        default=None, max_length=500, description="Why, kept in the audit log."
    )


REPLAY_CAP = 1000
"""The most dead deliveries one bulk replay puts back."""


_FILTERS = ("report_id", "connector", "kind", "dead_since", "dead_until")


def _bulk_replay_schema(schema: dict[str, Any]) -> None:
    # What `replay_many` checks, in the document too: at least one filter, not null.
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
        for name in _FILTERS
    ]
    schema["examples"] = [
        {
            "connector": "rest_json",
            "kind": "create",
            "dead_since": "2026-11-28T08:00:00Z",
            "dead_until": "2026-11-28T12:00:00Z",
            "reason": "CRM category list fixed (ticket OPS-1234)",
        },
        {"report_id": _REPORT_ID, "reason": "Resident called the hotline"},
    ]


class BulkReplay(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_bulk_replay_schema)

    report_id: uuid.UUID | None = Field(
        default=None,
        description="Only the dead deliveries of this report (its creation and actions).",
    )
    connector: Text | None = Field(
        default=None, max_length=50, description="Only those through this connector."
    )
    kind: DeliveryKind | None = Field(default=None, description="Only these.")
    dead_since: Timestamp | None = Field(
        default=None,
        description="Only those that became dead at or after this time (the start of the "
        "attempt that ended them, as in their log).",
    )
    dead_until: Timestamp | None = Field(
        default=None, description="Only those that became dead before this time."
    )
    limit: WholeNumber = Field(
        default=REPLAY_CAP,
        ge=1,
        le=REPLAY_CAP,
        description="The most replayed by this call, oldest first; call again while "
        "`more` is true.",
    )
    reason: Text | None = Field(
        default=None,
        max_length=500,
        description="Why they are replayed, kept in the audit log.",
    )


class BulkReplayResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "replayed": 2,
                    "more": False,
                    "ids": [_CASE_ID, "7c1e0f4a-2d7c-4e8f-9a6b-5b0f7a0e3c1d"],
                }
            ]
        }
    )

    replayed: int = Field(description="How many were put back to pending, due now.")
    more: bool = Field(
        description="Whether more dead deliveries match (beyond `limit`): call again."
    )
    ids: list[uuid.UUID] = Field(description="The deliveries replayed, oldest first.")
