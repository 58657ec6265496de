"""Public API shapes of reports (ours, not the wire contracts)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from intake_service.categories.schemas import NamedRef
from intake_service.photos.models import Photo
from intake_service.reports.delays import Delay, DelayRead
from intake_service.reports.models import (
    Listed,
    ListedPhoto,
    Nearby,
    Report,
    ReportStatusChange,
    timeline,
)
from intake_service.reports.status_names import status_name
from shared.contracts import ReportStatus
from shared.db import utcnow
from shared.i18n import N_, translate
from shared.text import NO_NUL, NOT_BLANK


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    lat: float = Field(
        ge=-90, le=90, description="Latitude (WGS 84).", examples=[51.1097]
    )
    lon: float = Field(
        ge=-180, le=180, description="Longitude (WGS 84).", examples=[17.0326]
    )


class LocationSource(StrEnum):
    DEVICE = "device"
    """Sent by the resident's app."""
    PHOTO = "photo"
    """Read from the GPS position stored in the first photo (the report had none)."""


class ReportCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "category": "pothole",
                    "location": {"lat": 51.1097, "lon": 17.0326},
                    "description": "Głęboka dziura na prawym pasie przy przejściu.",
                }
            ]
        },
    )

    category: Annotated[str, StringConstraints(min_length=1, max_length=50), NO_NUL] = (
        Field(description="A category code from GET /v1/categories.")
    )
    location: Location | None = Field(
        default=None,
        description="Where the problem is. Required, unless the report is sent with photos "
        "and the first one carries its GPS position (then that is used).",
    )
    attributes: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=50)],
        StrictBool
        | StrictInt
        | Annotated[StrictFloat, AllowInfNan(False)]
        | Annotated[StrictStr, NO_NUL],
    ] = Field(
        default_factory=dict,
        max_length=20,
        description="The category's extra fields (see `attributes` in GET /v1/categories).",
        examples=[{"lamp_post_number": "L-1234"}],
    )
    description: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
        NO_NUL,
        NOT_BLANK,
    ] = Field(description="What is wrong, 1 to 2000 characters.")
    show_name: StrictBool = Field(
        default=False,
        description="Show the signed-in resident's display name on the public report "
        "(hidden by default; ignored for anonymous reports).",
    )
    share_contact: StrictBool = Field(
        default=False,
        description="Pass the signed-in resident's name and verified e-mail to the city "
        "unit's CRM, so that a field worker can ask about the problem. Without this consent "
        "the CRM never learns who reported it.",
    )


class PhotoRead(BaseModel):
    id: uuid.UUID
    url: str = Field(
        description="The photo (JPEG, at most 2048 px), relative to this service.",
        examples=["/v1/photos/5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10"],
    )
    thumbnail_url: str = Field(
        description="Its thumbnail (at most 320 px).",
        examples=["/v1/photos/5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10?size=thumb"],
    )
    width: int = Field(examples=[2048])
    height: int = Field(examples=[1536])

    @classmethod
    def of(cls, photo: Photo | ListedPhoto) -> Self:
        url = f"/v1/photos/{photo.id}"
        return cls(
            id=photo.id,
            url=url,
            thumbnail_url=f"{url}?size=thumb",
            width=photo.width,
            height=photo.height,
        )


class StatusChangeRead(BaseModel):
    status: ReportStatus
    status_name: str = Field(description="The status in the requested language.")
    changed_at: dt.datetime
    note: str | None = Field(
        default=None,
        description="The unit's note, if it gave one; on a reopen by the reporter, their "
        "comment, shown only to them.",
    )

    @classmethod
    def of(cls, change: ReportStatusChange, lang: str, *, reporter: bool) -> Self:
        status = change.status
        return cls(
            status=status,
            status_name=status_name(status, lang),
            changed_at=change.changed_at,
            note=change.note if reporter or not change.by_reporter else None,
        )


class PublicFeedback(BaseModel):
    fixed: bool = Field(
        description="Whether the reporter says it was really fixed (`false` reopened a "
        "resolved report)."
    )


HIDDEN_DESCRIPTION = N_("The description was hidden by the city's moderators.")


def public_description(
    description: str, hidden_at: dt.datetime | None, lang: str
) -> str:
    """A description as the public reads it: once moderators hid it, a notice instead."""
    return description if hidden_at is None else translate(HIDDEN_DESCRIPTION, lang)


class ReportSummary(BaseModel):
    """A report as anyone may see it: never the reporter's identity or contact data."""

    id: uuid.UUID
    number: str = Field(
        description="Human-readable number.", examples=["WRO-2026-000042"]
    )
    category: NamedRef
    location: Location
    location_source: LocationSource = Field(
        description="`photo` when the position was taken from the first photo's GPS data."
    )
    description: str
    description_hidden: bool = Field(
        default=False,
        description="The city's moderators hid the description (personal data, insults): "
        "`description` is then a notice saying so, except in the reporter's own views, "
        "which keep their text.",
    )
    attributes: dict[str, str | int | float | bool] = Field(
        description="The category's extra fields given by the resident."
    )
    status: ReportStatus
    status_name: str = Field(description="The status in the requested language.")
    unit: NamedRef | None = Field(
        default=None,
        description="The responsible city unit, once the CRM has the case.",
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    expected_resolution_at: dt.datetime = Field(
        description="When the city aims to have it resolved (category target from filing)."
    )
    overdue: bool = Field(
        description="Still open after `expected_resolution_at`: the city is late."
    )

    supporters: int = Field(
        description='How many residents said "me too".', examples=[3]
    )
    photos: list[PhotoRead] = Field(
        description="In the resident's order; without those the moderators hid."
    )
    reported_by: str | None = Field(
        description="The reporter's display name, only when they chose to show it.",
        examples=[None],
    )
    feedback: PublicFeedback | None = Field(
        description='The reporter\'s answer to "was it really fixed?" once they gave one, '
        "until the report is closed again; never their comment, rating or name.",
        examples=[None],
    )

    @classmethod
    def fields_of(
        cls, report: Report | Listed, lang: str, *, own: bool = False
    ) -> dict[str, Any]:
        """`own`: read by its reporter, who keeps seeing their description."""
        status = report.status
        return {
            "id": report.id,
            "number": report.number,
            "category": NamedRef.of(report.category, lang),
            "location": Location(lat=report.lat, lon=report.lon),
            "location_source": LocationSource(report.location_source),
            "description": report.description
            if own
            else public_description(
                report.description, report.description_hidden_at, lang
            ),
            "description_hidden": report.description_hidden_at is not None,
            "attributes": report.attributes,
            "status": status,
            "status_name": status_name(status, lang),
            "unit": NamedRef.of(report.unit, lang) if report.unit else None,
            "created_at": report.created_at,
            "updated_at": report.updated_at,
            "expected_resolution_at": report.expected_resolution_at,
            "overdue": not status.is_closed
            and utcnow() > report.expected_resolution_at,
            "supporters": report.supporters_count,
            "photos": [
                PhotoRead.of(photo)
                for photo in report.photos
                if photo.hidden_at is None
            ],
            # A name is shown only once its owner proved who they are.
            "reported_by": report.reporter.display_name
            if report.show_name
            and report.reporter is not None
            and report.reporter.email_verified_at is not None
            else None,
            "feedback": None
            if report.feedback_fixed is None
            else PublicFeedback(fixed=report.feedback_fixed),
        }

    @classmethod
    def of(cls, report: Report, lang: str) -> Self:
        return cls(**cls.fields_of(report, lang))

    @classmethod
    def listed(cls, report: Listed, lang: str) -> ReportSummary:
        # Stored data, checked when it was filed: not validated again for every page.
        return cls.model_construct(**cls.fields_of(report, lang))


def _history(report: Report, lang: str, *, reporter: bool) -> list[StatusChangeRead]:
    """`reporter`: read by its reporter, who sees their own comments in it."""
    return [
        StatusChangeRead.of(change, lang, reporter=reporter)
        for change in timeline(report.history)
    ]


class ReportRead(ReportSummary):
    status_history: list[StatusChangeRead] = Field(description="Oldest first.")
    delay: DelayRead | None = Field(
        default=None,
        description="Set while the report, still `received`, has waited too long to "
        "reach the city's CRM (its system not answering, or passing it on stopped): a "
        "note to show the resident. Null otherwise.",
    )

    @classmethod
    def of(cls, report: Report, lang: str, *, delay: Delay | None = None) -> Self:
        return cls(
            **cls.fields_of(report, lang),
            status_history=_history(report, lang, reporter=False),
            delay=DelayRead.of(delay, lang) if delay else None,
        )


class NearbyReport(BaseModel):
    id: uuid.UUID
    number: str = Field(examples=["WRO-2026-000042"])
    status: ReportStatus
    distance_m: int = Field(
        description="Metres from the given position.", examples=[40]
    )
    created_at: dt.datetime
    description: str
    description_hidden: bool = Field(
        default=False,
        description="Hidden by the city's moderators: `description` is a notice saying so.",
    )

    @classmethod
    def of(cls, near: Nearby, lang: str) -> NearbyReport:
        return cls(
            id=near.id,
            number=near.number,
            status=near.status,
            distance_m=round(near.distance_m),
            created_at=near.created_at,
            description=translate(HIDDEN_DESCRIPTION, lang)
            if near.description_hidden
            else near.description,
            description_hidden=near.description_hidden,
        )


class ReportCreated(ReportRead):
    possible_duplicates: list[NearbyReport] = Field(
        description="Open reports of the same category close by (nearest first, at most 5): "
        'the app can offer "me too" instead of a second report.'
    )

    @classmethod
    def created(
        cls, report: Report, lang: str, *, duplicates: Sequence[Nearby]
    ) -> ReportCreated:
        read = ReportRead.of(report, lang)
        nearby = [NearbyReport.of(near, lang) for near in duplicates]
        return cls(**dict(read), possible_duplicates=nearby)


class ReportPage(BaseModel):
    items: list[ReportSummary] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class SupportRead(BaseModel):
    """A "me too": the report's supporters now, and whether this call added one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "report_id": "6f1c2b0e-3c1d-4a2b-9f3e-1d2c3b4a5e6f",
                    "supporters": 4,
                    "counted": True,
                    "subscribed": True,
                }
            ]
        }
    )

    report_id: uuid.UUID = Field(description="The supported report.")
    supporters: int = Field(
        description='How many residents said "me too" so far.', examples=[4]
    )
    counted: bool = Field(
        description="True when this call added the support; false when it was given before."
    )
    subscribed: bool = Field(
        description="True for a signed-in resident, who is now told about every status "
        "change (from the verification of their e-mail address on)."
    )


class MyReportRead(ReportRead):
    """One of the resident's own reports, with the choices only they see, and their
    description even when the moderators hid it from others (`description_hidden`)."""

    show_name: bool = Field(
        description="Whether the resident's display name is shown on the public report."
    )
    share_contact: bool = Field(
        description="Whether the resident's name and e-mail went to the city unit's CRM."
    )

    @classmethod
    def of(cls, report: Report, lang: str, *, delay: Delay | None = None) -> Self:
        return cls(
            **cls.fields_of(report, lang, own=True),
            status_history=_history(report, lang, reporter=True),
            delay=DelayRead.of(delay, lang) if delay else None,
            show_name=report.show_name,
            share_contact=report.share_contact,
        )


class MyReportUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"show_name": False}]}
    )

    show_name: StrictBool = Field(
        description="Show (true) or hide (false) your display name on the public report."
    )


class MyReportPage(BaseModel):
    items: list[MyReportRead] = Field(
        description="Newest first, each with its status history."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
