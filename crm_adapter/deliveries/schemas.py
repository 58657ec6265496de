"""API shapes of deliveries, their attempts and the connectors' breakers."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from pydantic import BaseModel, ConfigDict, Field

from crm_adapter.deliveries.breaker import BreakerState
from crm_adapter.deliveries.models import DeliveryKind, Outcome

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


class DeliveryRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _CASE_ID,
                    "kind": "create",
                    "case_id": _CASE_ID,
                    "report_id": _REPORT_ID,
                    "connector": "rest_json",
                    "state": "dead",
                    "attempts": 1,
                    "last_error": 'HTTP 422: {"detail": "unknown category"}',
                    "next_attempt_at": None,
                    "created_at": "2026-11-28T08:00:00Z",
                    "updated_at": "2026-11-28T08:00:01Z",
                }
            ]
        }
    )

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

    reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why it is replayed, kept in the audit log.",
    )


class ConnectorRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "rest_json",
                    "configured": True,
                    "breaker": "open",
                    "consecutive_failures": 5,
                    "opened_at": "2026-11-28T08:00:00Z",
                    "open_until": "2026-11-28T08:01:00Z",
                    "last_error": "HTTP 503: Service Unavailable",
                }
            ]
        }
    )

    name: str
    configured: bool = Field(
        description="False for a connector only seen in the breakers' records."
    )
    breaker: BreakerState = Field(
        description="`closed`: deliveries go; `open`: nothing is claimed for this "
        "connector until `open_until`; `half_open`: the next due delivery is sent as a "
        "probe that closes or reopens it."
    )
    consecutive_failures: int
    opened_at: dt.datetime | None
    open_until: dt.datetime | None
    last_error: str | None
