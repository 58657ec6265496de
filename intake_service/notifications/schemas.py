"""Public API shapes of notifications."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake_service.notifications.models import (
    Notification,
    NotificationKind,
    Platform,
)
from intake_service.notifications.texts import notification_text, notification_title
from shared.contracts import ReportStatus
from shared.text import NO_NUL


class NotificationRead(BaseModel):
    id: uuid.UUID
    kind: NotificationKind = Field(
        description="`status_changed`, or `feedback_requested` once the report is closed "
        "(answer with `POST /v1/reports/{id}/feedback`); for the reporter, "
        "`description_hidden` / `photo_hidden` when the city's moderators hid their text "
        "or a photo from the public, and `description_restored` / `photo_restored` when "
        "they showed it again."
    )
    report_id: uuid.UUID
    report_number: str = Field(examples=["WRO-2026-000042"])
    status: ReportStatus = Field(description="The report's status it tells about.")
    title: str = Field(
        description="A short heading in the resident's language.",
        examples=["Zgłoszenie WRO-2026-000042"],
    )
    text: str = Field(
        description="What happened, in the resident's language, with the unit's note.",
        examples=[
            "Zgłoszenie WRO-2026-000042 (Dziura w jezdni) ma nowy status: w realizacji."
        ],
    )
    created_at: dt.datetime
    read_at: dt.datetime | None

    @classmethod
    def of(cls, notification: Notification, lang: str) -> Self:
        report = notification.report
        return cls(
            id=notification.id,
            kind=notification.kind,
            report_id=notification.report_id,
            report_number=report.number,
            status=notification.status,
            title=notification_title(report, lang),
            text=notification_text(notification, report, lang),
            created_at=notification.created_at,
            read_at=notification.read_at,
        )


class NotificationList(BaseModel):
    items: list[NotificationRead] = Field(description="Newest first.")
    unread_count: int = Field(
        description="Unread notifications in all (not only on this page).", examples=[2]
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for older ones; null on the last page."
    )


class MarkRead(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"ids": ["0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10"]}, {}]
        },
    )

    ids: list[uuid.UUID] | None = Field(
        default=None,
        max_length=200,
        description="The notifications to mark read; leave out to mark all read.",
    )


class MarkedRead(BaseModel):
    marked: int = Field(description="How many were unread and are read now.")
    unread_count: int = Field(description="Unread notifications left.")


class DeviceRegister(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"platform": "android", "token": "dXNlcjEyMzpBUEE5MWJIZ3R5X2V4YW1wbGU"}
            ]
        },
    )

    platform: Platform = Field(description="`android`, `ios` or `web`.")
    token: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=8, max_length=4096),
        NO_NUL,
    ] = Field(description="The push service's token of this app install.")


class DeviceRead(BaseModel):
    """An app install that receives the resident's push notifications (its token is not
    shown)."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9a7e4c2d-1b3f-4e5a-8c6d-0f1e2d3c4b5a",
                    "platform": "android",
                    "registered_at": "2026-12-01T10:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID = Field(
        description="The device's id, to unregister it with "
        "`DELETE /v1/me/devices/{device_id}`."
    )
    platform: Platform = Field(description="`android`, `ios` or `web`.")
    registered_at: dt.datetime = Field(
        description="When the token was last registered."
    )
