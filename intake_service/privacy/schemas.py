"""The shape of `GET /v1/me/export`, for the API's documentation.

`service.export` builds the document; these models only describe what it builds (the
answer is that data as it is, not these models' serialization).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from intake_service.accounts.schemas import NotificationChannels
from intake_service.ideas.schemas import IdeaTopic
from intake_service.notifications.schemas import DeviceRead, NotificationRead
from intake_service.reports.schemas import Location, MyReportRead
from shared.i18n import Lang

_ACCOUNT_EXAMPLE: dict[str, Any] = {
    "id": "2c4e6a8b-0d1f-4a3b-8c5d-7e9f1a2b3c4d",
    "email": "anna@example.org",
    "email_verified_at": "2026-11-20T09:15:00.123456+00:00",
    "display_name": "Anna",
    "lang": "pl",
    "notification_channels": {"push": True, "email": True},
    "created_at": "2026-11-20T09:00:00.654321+00:00",
}
_FEEDBACK_EXAMPLE: dict[str, Any] = {
    "report_id": "6f1c2b0e-3c1d-4a2b-9f3e-1d2c3b4a5e6f",
    "fixed": False,
    "rating": 2,
    "comment": "Dziura nadal jest, zasypano ją tylko piaskiem.",
    "given_at": "2026-12-09T08:00:00+00:00",
    "changed_at": "2026-12-09T08:00:00+00:00",
}
_IDEA_EXAMPLE: dict[str, Any] = {
    "id": "4d6f8a0c-2e4a-4b6c-8d0e-1f3a5b7c9d1e",
    "text": "Więcej ławek wzdłuż bulwaru nad Odrą.",
    "topic": "city",
    "category": "damaged_bench",
    "location": {"lat": 51.1097, "lon": 17.0326},
    "sent_at": "2026-11-25T18:30:00+00:00",
}


class ExportedAccount(BaseModel):
    """The account as it is stored (never its password)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ACCOUNT_EXAMPLE]})

    id: uuid.UUID
    email: str = Field(description="The address the account was registered with.")
    email_verified_at: dt.datetime | None = Field(
        description="When the address was confirmed with a code; null until then."
    )
    display_name: str
    lang: Lang = Field(description="The language of notifications and e-mails.")
    notification_channels: NotificationChannels = Field(
        description="Where the resident is told of changes besides the in-app feed."
    )
    created_at: dt.datetime = Field(description="When the account was registered.")


class ExportedFeedback(BaseModel):
    """An answer the resident gave to "was it really fixed?"."""

    model_config = ConfigDict(json_schema_extra={"examples": [_FEEDBACK_EXAMPLE]})

    report_id: uuid.UUID = Field(description="The report it answers about.")
    fixed: bool = Field(description="Whether the resident said it was really fixed.")
    rating: int = Field(ge=1, le=5, description="From 1 (badly) to 5 (very well).")
    comment: str | None = Field(description="Their comment, if they wrote one.")
    given_at: dt.datetime = Field(description="When the answer was first given.")
    changed_at: dt.datetime = Field(description="When it was last changed.")


class ExportedIdea(BaseModel):
    """An idea the resident sent to the city."""

    model_config = ConfigDict(json_schema_extra={"examples": [_IDEA_EXAMPLE]})

    id: uuid.UUID
    text: str = Field(description="The idea as sent.")
    topic: IdeaTopic | None = Field(description="`app`, `city`, or null if not given.")
    category: str | None = Field(
        description="The related category's code, if one was given."
    )
    location: Location | None = Field(description="Where it applies, if given.")
    sent_at: dt.datetime = Field(description="When it was sent.")


class DataExport(BaseModel):
    """Everything stored about the signed-in resident (GDPR articles 15 and 20)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "exported_at": "2026-12-10T10:00:00.000001+00:00",
                    "account": _ACCOUNT_EXAMPLE,
                    "reports": [],
                    "supported_reports": ["6f1c2b0e-3c1d-4a2b-9f3e-1d2c3b4a5e6f"],
                    "notifications": [],
                    "devices": [
                        {
                            "id": "9a7e4c2d-1b3f-4e5a-8c6d-0f1e2d3c4b5a",
                            "platform": "android",
                            "registered_at": "2026-11-20T09:20:00Z",
                        }
                    ],
                    "feedback": [_FEEDBACK_EXAMPLE],
                    "ideas": [_IDEA_EXAMPLE],
                    "surveys_answered": ["1a3c5e7a-9b1d-4f2a-8b4c-6d8e0f2a4b6c"],
                }
            ]
        }
    )

    exported_at: dt.datetime = Field(description="When this export was made.")
    account: ExportedAccount
    reports: list[MyReportRead] = Field(
        description="The resident's own reports in full, oldest first, with their status "
        "history, as `GET /v1/me/reports` shows them."
    )
    supported_reports: list[uuid.UUID] = Field(
        description='The ids of the reports the resident said "me too" to.'
    )
    notifications: list[NotificationRead] = Field(
        description="Every notification of the account, oldest first."
    )
    devices: list[DeviceRead] = Field(
        description="The devices registered for push (tokens are not shown)."
    )
    feedback: list[ExportedFeedback] = Field(
        description='The resident\'s answers to "was it really fixed?", oldest first.'
    )
    ideas: list[ExportedIdea] = Field(
        description="The ideas the resident sent, oldest first."
    )
    surveys_answered: list[uuid.UUID] = Field(
        description="The ids of the surveys the resident answered (the answers are "
        "stored without a name, so they are not part of the export)."
    )
