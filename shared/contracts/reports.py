"""Report events exchanged between intake and the CRM adapter (wire types only)."""

from __future__ import annotations

import enum
import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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


class GeoPoint(_Contract):
    """A WGS 84 position."""

    lat: float = Field(ge=-90, le=90, description="Latitude in degrees (WGS 84).")
    lon: float = Field(ge=-180, le=180, description="Longitude in degrees (WGS 84).")


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


class ReportSubmittedV1(_Contract):
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
    submitted_at: AwareDatetime = Field(
        description="When intake accepted the report (UTC)."
    )


class ReportStatusChangedV1(_Contract):
    """The status of a report changed in the CRM (or the case was created there)."""

    type: Literal["report.status_changed.v1"] = "report.status_changed.v1"
    report_id: uuid.UUID = Field(description="Intake's id of the report.")
    status: ReportStatus = Field(description="The new canonical status.")
    sequence: int = Field(
        ge=1,
        le=2**63 - 1,
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
    changed_at: AwareDatetime = Field(description="When the change happened (UTC).")


class ReporterErasedV1(_Contract):
    """The reporter erased their account: their contact data must go wherever it went.

    Sent for each report whose contact data was shared; the adapter drops what it stored
    and asks the CRM to erase the contact on the case where the connector can.
    """

    type: Literal["report.reporter_erased.v1"] = "report.reporter_erased.v1"
    report_id: uuid.UUID = Field(description="Intake's id of the report.")
    erased_at: AwareDatetime = Field(description="When the account was erased (UTC).")
