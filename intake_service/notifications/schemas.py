"""Public API shapes of notifications."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts import ReportStatus


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    report_id: uuid.UUID
    status: ReportStatus = Field(description="The report's new status.")
    text: str = Field(
        description="What happened, in the resident's language.",
        examples=[
            "Zgłoszenie WRO-2026-000042 (Dziura w jezdni) ma nowy status: w realizacji."
        ],
    )
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationList(BaseModel):
    items: list[NotificationRead] = Field(description="Newest first.")
