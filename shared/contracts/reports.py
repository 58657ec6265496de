"""Report events exchanged between intake and the CRM adapter (wire types only)."""

from __future__ import annotations

import enum
import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_validator,
)

from shared.params import Timestamp, WholeNumber, whole_number
from shared.sla import MAX_HOURS, MAX_WORKING_DAYS
from shared.text import Text


class ReportStatus(enum.StrEnum):
    """Resident-facing status of a report; the adapter maps each CRM's codes onto these."""

    RECEIVED = "received"
    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    REOPENED = "reopened"

    @property
    def is_closed(self) -> bool:
        return self in (ReportStatus.RESOLVED, ReportStatus.REJECTED)


class _Contract(BaseModel):
    model_config = ConfigDict(frozen=True)


def _type_required(schema: dict[str, Any]) -> None:
    schema["required"] = ["type", *schema.get("required", [])]


class _Event(_Contract):
    """An event: its `type` has a default for building one in code, and every event on the
    wire names it, since the envelope tells the events apart by it."""

    model_config = ConfigDict(json_schema_extra=_type_required)


class GeoPoint(_Contract):
    """A WGS 84 position."""

    lat: StrictFloat = Field(ge=-90, le=90, description="Latitude in degrees (WGS 84).")
    lon: StrictFloat = Field(
        ge=-180, le=180, description="Longitude in degrees (WGS 84)."
    )


class ReporterContact(_Contract):
    """Who to contact about a report; sent only when the resident agreed to share it."""

    name: Text = Field(min_length=1, max_length=100, description="Display name.")
    email: Text = Field(
        min_length=3, max_length=320, description="A verified e-mail address."
    )
    lang: Text = Field(
        min_length=2,
        max_length=2,
        description="The resident's language (`pl`, `en`, `de`).",
    )


def _one_of_the_two(schema: dict[str, Any]) -> None:
    # What `_exactly_one` checks, in the schema too.
    schema["oneOf"] = [
        {
            "required": [given],
            "properties": {given: {"not": {"type": "null"}}, other: {"type": "null"}},
        }
        for given, other in (("hours", "working_days"), ("working_days", "hours"))
    ]


class ResolutionTarget(_Contract):
    """The city's target time from report to resolution: exactly one of the two is set."""

    model_config = ConfigDict(json_schema_extra=_one_of_the_two)

    hours: (
        Annotated[StrictInt, Field(ge=1, le=MAX_HOURS), BeforeValidator(whole_number)]
        | None
    ) = Field(
        default=None,
        description="Hours on the clock, for short targets (e.g. 4 for a traffic signal "
        "fault).",
    )
    working_days: (
        Annotated[
            StrictInt, Field(ge=1, le=MAX_WORKING_DAYS), BeforeValidator(whole_number)
        ]
        | None
    ) = Field(
        default=None,
        description="Working days (Monday to Friday except the city's public holidays, "
        "counted in its time zone: `MAM_HOLIDAYS` and `MAM_TIME_ZONE`, the same for both "
        "services), for long targets (e.g. 5 for a pothole).",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ResolutionTarget:
        if (self.hours is None) == (self.working_days is None):
            raise ValueError("give exactly one of hours and working_days")
        return self


DEFAULT_RESOLUTION_TARGET = ResolutionTarget(working_days=5)
"""The target of a `report.submitted.v1` sent without one (before the field existed)."""


class ReportSubmittedV1(_Event):
    """A resident's report was stored by intake and must become a CRM case."""

    type: Literal["report.submitted.v1"] = "report.submitted.v1"
    report_id: uuid.UUID = Field(
        description="Intake's id of the report; the CRM's external reference."
    )
    number: Text = Field(
        min_length=1,
        max_length=32,
        description="Human-readable report number shown to the resident.",
    )
    category: Text = Field(
        min_length=1, max_length=50, description="Category code, e.g. `pothole`."
    )
    location: GeoPoint = Field(description="Where the problem is.")
    description: Text = Field(
        min_length=1, max_length=2000, description="The resident's description."
    )
    attributes: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description='The category\'s extra fields, e.g. `{"lamp_post_number": "L-1234"}`.',
    )
    photo_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=10,
        description="The report's photos in the resident's order, as intake's photo ids "
        "(JPEG without metadata at intake's `GET /v1/photos/{id}`).",
    )
    reporter_contact: ReporterContact | None = Field(
        default=None,
        description="The reporter's contact data, only when they agreed to pass it to the "
        "city unit (`share_contact`); never otherwise.",
    )
    submitted_at: Timestamp = Field(
        description="When intake accepted the report (UTC)."
    )
    resolution_target: ResolutionTarget = Field(
        default=DEFAULT_RESOLUTION_TARGET,
        description="The category's target when the report was submitted; the report is "
        "due that long after `submitted_at` (the time intake showed the resident). Added "
        "within v1: an event without it means 5 working days.",
    )


class ReportStatusChangedV1(_Event):
    """The status of a report changed in the CRM (or the case was created there)."""

    type: Literal["report.status_changed.v1"] = "report.status_changed.v1"
    report_id: uuid.UUID = Field(description="Intake's id of the report.")
    status: ReportStatus = Field(description="The new canonical status.")
    sequence: WholeNumber = Field(
        ge=1,
        lt=2**63,  # said as `lt`: 2**63 - 1 as a float (OpenAPI) is 2**63
        description="Per-report version, increasing with each change; "
        "a receiver ignores a change whose sequence is not above the last one it applied.",
    )
    unit: Text | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Code of the responsible city unit.",
    )
    note: Text | None = Field(
        default=None,
        max_length=4000,
        description="The unit's note for the resident, if any.",
    )
    crm_case_id: Text | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The case's id in the city's CRM.",
    )
    crm_status: Text | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="The CRM's own status code, unmapped.",
    )
    changed_at: Timestamp = Field(description="When the change happened (UTC).")
    reopen_id: uuid.UUID | None = Field(
        default=None,
        description="Set on the adapter's answer to a `report.reopen_requested.v1`: that "
        "event's `reopen_id`. Every change with a lower sequence was sent before the adapter "
        "knew of the reopen; intake sets such changes aside while it waits for this answer.",
    )
    superseded: StrictBool = Field(
        default=False,
        description="An earlier change the CRM made that arrived after a newer one (webhooks "
        "out of order): it belongs in the report's history at `changed_at` with its note, "
        "but the report keeps its newer status and nobody is notified of it.",
    )


_COMMENT_LIMIT = 2000


class ReportReopenRequestedV1(_Event):
    """The reporter says a resolved report is not fixed: the CRM case must be reopened.

    Intake has already shown the report as `reopened` to residents: a change of its own, made
    outside the adapter's sequence. Changes the adapter sent before it took this event may
    still be on their way and would undo that, so intake sets aside every change until the
    adapter's answer arrives: a `report.status_changed.v1` with this `reopen_id`, whose
    sequence is above all the adapter sent before. From that answer on, intake applies changes
    by sequence as always. The event follows the report's earlier events in intake's outbox,
    so the adapter always has the case by then; the CRM gets the reopen after the case exists.
    """

    type: Literal["report.reopen_requested.v1"] = "report.reopen_requested.v1"
    report_id: uuid.UUID = Field(description="Intake's id of the report.")
    reopen_id: uuid.UUID = Field(
        description="Id of this reopen: the adapter's answer carries it back, and the CRM "
        "gets it as the idempotency key of the reopen."
    )
    comment: Text | None = Field(
        default=None,
        min_length=1,
        max_length=_COMMENT_LIMIT,
        description="Why the resident says it is not fixed, in their words (for the CRM).",
    )
    rating: WholeNumber = Field(
        ge=1, le=5, description="The resident's rating of how it was handled, 1 to 5."
    )
    after_sequence: WholeNumber = Field(
        ge=0,
        lt=2**63,  # said as `lt`: 2**63 - 1 as a float (OpenAPI) is 2**63
        description="The sequence of the last status change intake had applied when the "
        "resident answered: the resolution they disagree with.",
    )
    requested_at: Timestamp = Field(
        description="When the resident reopened the report (UTC)."
    )


class ReportCommentAddedV1(_Event):
    """The reporter commented on a closed report without reopening it: a note for the CRM case.

    Sent when a resident says a rejected report is not fixed: residents cannot reopen what the
    unit rejected, but the unit hears their comment.
    """

    type: Literal["report.comment_added.v1"] = "report.comment_added.v1"
    report_id: uuid.UUID = Field(description="Intake's id of the report.")
    comment_id: uuid.UUID = Field(
        description="Id of this comment; the CRM gets it as an idempotency key."
    )
    comment: Text = Field(
        min_length=1,
        max_length=_COMMENT_LIMIT,
        description="The resident's comment, in their words.",
    )
    fixed: StrictBool = Field(
        description="The resident's answer to: was it really fixed?"
    )
    rating: WholeNumber = Field(
        ge=1, le=5, description="The resident's rating of how it was handled, 1 to 5."
    )
    added_at: Timestamp = Field(description="When the resident commented (UTC).")


class ReporterErasedV1(_Event):
    """The reporter erased their account: their contact data must go wherever it went.

    Sent for each report whose contact data was shared; the adapter drops what it stored
    and asks the CRM to erase the contact on the case where the connector can.
    """

    type: Literal["report.reporter_erased.v1"] = "report.reporter_erased.v1"
    report_id: uuid.UUID = Field(description="Intake's id of the report.")
    erased_at: Timestamp = Field(description="When the account was erased (UTC).")


class ReportDeliveryDelayedV1(_Event):
    """The report's way into the CRM is held up (or free again): the resident is told.

    Sent by the adapter when the delivery of the report's case has been retrying for longer
    than its setting, or has stopped (a dead letter), and again with `delayed` false when an
    operator replays it or the case is created. Intake applies only the newest by `as_of`.
    """

    type: Literal["report.delivery_delayed.v1"] = "report.delivery_delayed.v1"
    report_id: uuid.UUID = Field(description="Intake's id of the report.")
    delayed: StrictBool = Field(
        description="True: the delivery is held up; false: it is on its way again."
    )
    dead: StrictBool = Field(
        default=False,
        description="True when the retries stopped and an operator must replay it.",
    )
    since: Timestamp | None = Field(
        default=None,
        description="When the delivery's first failed attempt was (UTC), or, for one "
        "its connector's open circuit breaker kept from being tried, when it was held "
        "back; null when `delayed` is false.",
    )
    as_of: Timestamp = Field(
        description="When the adapter saw it so (UTC): a receiver ignores an event older "
        "than the last it applied for the report."
    )


def without_contact(envelope_json: str) -> str:
    """A stored `report.submitted.v1` envelope with its `reporter_contact` removed.

    Kept copies of an event (outbox, inbox) must forget the reporter when they erase
    their account, as the live data does.
    """
    envelope = json.loads(envelope_json)
    event = envelope.get("event", {})
    if event.get("reporter_contact") is not None:
        event["reporter_contact"] = None
    return json.dumps(envelope, ensure_ascii=False)
