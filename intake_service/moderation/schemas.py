"""API shapes of moderation: what operators send and read, and a resident's abuse flag."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake_service.categories.schemas import NamedRef
from intake_service.moderation.models import (
    ModerationAction,
    ModerationEvent,
    ReasonCode,
)
from intake_service.moderation.repository import Queued
from intake_service.notifications.texts import MODERATION_REASONS
from intake_service.photos.models import Photo
from intake_service.reports.models import Report
from intake_service.reports.schemas import Location
from intake_service.reports.status_names import status_name
from shared.contracts import ReportStatus
from shared.i18n import N_, translate
from shared.text import NO_NUL, NOT_BLANK

REASON_CODE_DESCRIPTION = (
    "`personal_data`, `offensive`, `face_or_plate`, `not_relevant`, `spam` or `other`."
)


FLAG_THANKS = N_("Thank you. The city's moderators will look at this report.")


def reason_name(code: ReasonCode, lang: str) -> str:
    return translate(MODERATION_REASONS[code.value], lang)


class ModerationReason(BaseModel):
    """Why an operator hides, restores or dismisses."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason_code": "personal_data",
                    "reason": "Opis podaje imię, nazwisko i telefon sąsiada.",
                }
            ]
        },
    )

    reason_code: ReasonCode | None = Field(
        default=None,
        description=f"The kind of reason, if one fits: {REASON_CODE_DESCRIPTION} The "
        "reporter is told its name when something is hidden.",
    )
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
        NO_NUL,
        NOT_BLANK,
    ] = Field(
        description="Why, in the operator's words (1 to 1000 characters): kept in the "
        "report's moderation history and the audit log, never shown to residents."
    )


class AbuseFlagCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason_code": "face_or_plate",
                    "comment": "Na zdjęciu widać tablicę rejestracyjną.",
                }
            ]
        },
    )

    reason_code: ReasonCode = Field(
        description=f"What is wrong with the report: {REASON_CODE_DESCRIPTION}"
    )
    comment: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NO_NUL]
        | None
    ) = Field(default=None, description="A few words for the moderators (at most 500).")


class AbuseFlagAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "report_id": "6f1c2b0e-3c1d-4a2b-9f3e-1d2c3b4a5e6f",
                    "message": "Dziękujemy. Moderatorzy miasta przyjrzą się temu "
                    "zgłoszeniu.",
                }
            ]
        }
    )

    report_id: uuid.UUID = Field(description="The flagged report.")
    message: str = Field(description="A thank-you in the requested language.")


class ReasonCount(BaseModel):
    code: ReasonCode
    name: str = Field(
        description="In the requested language.", examples=["dane osobowe"]
    )
    count: int = Field(examples=[2])

    @classmethod
    def listed(cls, reasons: Counter[ReasonCode], lang: str) -> list[Self]:
        """Most given first."""
        return [
            cls(code=code, name=reason_name(code, lang), count=count)
            for code, count in reasons.most_common()
        ]


class ModerationEventRead(BaseModel):
    id: int
    action: ModerationAction = Field(
        description="`description.hide`, `description.restore`, `photo.hide`, "
        "`photo.restore` or `flags.dismiss`."
    )
    photo_id: uuid.UUID | None = Field(description="The photo hidden or restored.")
    reason_code: ReasonCode | None
    reason_name: str | None = Field(
        description="The code's name in the language asked."
    )
    reason: str = Field(description="The operator's own words.")
    operator_name: str = Field(
        description="The name of the operator key used.", examples=["moderator-ewa"]
    )
    flags_resolved: int = Field(
        description="How many residents' abuse flags this resolved."
    )
    occurred_at: dt.datetime

    @classmethod
    def of(cls, event: ModerationEvent, lang: str) -> Self:
        code = event.reason_code
        return cls(
            id=event.id,
            action=event.action,
            photo_id=event.photo_id,
            reason_code=code,
            reason_name=reason_name(code, lang) if code else None,
            reason=event.reason,
            operator_name=event.operator_name,
            flags_resolved=event.flags_resolved,
            occurred_at=event.occurred_at,
        )


OPERATOR_PHOTOS = "/v1/operator/photos"


class OperatorPhotoRead(BaseModel):
    id: uuid.UUID
    url: str = Field(
        description="The photo for operators (hidden or not), relative to this service.",
        examples=["/v1/operator/photos/5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10"],
    )
    thumbnail_url: str
    width: int
    height: int
    hidden_at: dt.datetime | None = Field(
        description="When the moderators hid it; null while the public sees it."
    )

    @classmethod
    def of(cls, photo: Photo) -> Self:
        url = f"{OPERATOR_PHOTOS}/{photo.id}"
        return cls(
            id=photo.id,
            url=url,
            thumbnail_url=f"{url}?size=thumb",
            width=photo.width,
            height=photo.height,
            hidden_at=photo.hidden_at,
        )


class ModeratedReportRead(BaseModel):
    """A report as operators see it: everything, hidden or not, with its moderation."""

    id: uuid.UUID
    number: str = Field(examples=["WRO-2026-000042"])
    category: NamedRef
    location: Location
    status: ReportStatus
    status_name: str = Field(description="The status in the requested language.")
    created_at: dt.datetime
    updated_at: dt.datetime
    description: str = Field(description="As the resident wrote it, hidden or not.")
    description_hidden_at: dt.datetime | None = Field(
        description="When the moderators hid it; null while the public sees it."
    )
    photos: list[OperatorPhotoRead] = Field(
        description="Every photo in the resident's order, those hidden too."
    )
    reporter_told: bool = Field(
        description="Whether the reporter hears of what is hidden or shown again: only a "
        "named reporter with a verified e-mail address (an anonymous one has nobody to "
        "tell)."
    )
    open_flags: int = Field(description="Residents' abuse flags not yet resolved.")
    flag_reasons: list[ReasonCount] = Field(
        description="The open flags by reason, most given first."
    )
    moderation: list[ModerationEventRead] = Field(
        description="What operators hid, showed again or dismissed, oldest first."
    )

    @classmethod
    def of(
        cls,
        report: Report,
        events: list[ModerationEvent],
        reasons: Counter[ReasonCode],
        lang: str,
    ) -> Self:
        reporter = report.reporter
        return cls(
            id=report.id,
            number=report.number,
            category=NamedRef.of(report.category, lang),
            location=Location(lat=report.lat, lon=report.lon),
            status=report.status,
            status_name=status_name(report.status, lang),
            created_at=report.created_at,
            updated_at=report.updated_at,
            description=report.description,
            description_hidden_at=report.description_hidden_at,
            photos=[OperatorPhotoRead.of(photo) for photo in report.photos],
            reporter_told=reporter is not None
            and reporter.email_verified_at is not None,
            open_flags=sum(reasons.values()),
            flag_reasons=ReasonCount.listed(reasons, lang),
            moderation=[ModerationEventRead.of(event, lang) for event in events],
        )


class QueueItem(BaseModel):
    report_id: uuid.UUID
    number: str = Field(examples=["WRO-2026-000042"])
    category: NamedRef
    status: ReportStatus
    description: str = Field(description="As the resident wrote it, hidden or not.")
    description_hidden: bool
    flags: int = Field(description="Open flags: one per account or client address.")
    first_flagged_at: dt.datetime
    last_flagged_at: dt.datetime
    reasons: list[ReasonCount] = Field(description="Most given first.")
    comments: list[str] = Field(
        description="The residents' newest comments (at most five)."
    )

    @classmethod
    def of(
        cls,
        report: Report,
        queued: Queued,
        reasons: Counter[ReasonCode],
        comments: list[str],
        lang: str,
    ) -> Self:
        return cls(
            report_id=report.id,
            number=report.number,
            category=NamedRef.of(report.category, lang),
            status=report.status,
            description=report.description,
            description_hidden=report.description_hidden_at is not None,
            flags=queued.flags,
            first_flagged_at=queued.first_flagged_at,
            last_flagged_at=queued.last_flagged_at,
            reasons=ReasonCount.listed(reasons, lang),
            comments=comments,
        )


class QueuePage(BaseModel):
    items: list[QueueItem] = Field(
        description="The most flagged reports first, then those flagged longest ago."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
