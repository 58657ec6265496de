"""API shapes of the audit log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class OperatorActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    operator_name: str = Field(
        description="The name of the key that made the change (`cli`: the command line).",
        examples=["zdium-dispatch"],
    )
    action: str = Field(
        description="What was done, as `<thing>.<verb>`.", examples=["survey.close"]
    )
    target_type: str = Field(examples=["survey"])
    target_id: str | None = Field(examples=["1f0e7c4a-5d1e-4b7b-9a3e-2c6b1d0f9e21"])
    details: dict[str, Any] = Field(
        description="What changed, e.g. the fields of an update.",
        examples=[{"fields": ["ends_at"]}],
    )
    request_id: str | None = Field(
        description="The request's `X-Request-ID`, when one was sent.",
        examples=[None],
    )
    occurred_at: dt.datetime


class OperatorActionPage(BaseModel):
    items: list[OperatorActionRead] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
