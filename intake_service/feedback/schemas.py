"""Public API shapes of feedback."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)

from intake_service.feedback.models import Feedback
from shared.contracts import ReportStatus
from shared.params import WholeNumber
from shared.text import NO_NUL

Comment = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), NO_NUL
]


class FeedbackCreate(BaseModel):
    """An answer to "was it really fixed?"; `PUT` takes the same body to change it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "fixed": False,
                    "rating": 2,
                    "comment": "Dziura nadal jest, zasypano ją tylko piaskiem.",
                },
                {"fixed": True, "rating": 5},
            ]
        },
    )

    fixed: StrictBool = Field(
        description="Was it really fixed? `false` on a resolved report reopens it."
    )
    rating: WholeNumber = Field(
        ge=1,
        le=5,
        description="How well it was handled, from 1 (badly) to 5 (very well).",
    )
    comment: Comment | None = Field(
        default=None,
        description="Anything to add, up to 2000 characters (trimmed; blank is none). "
        "It goes to the responsible unit when the answer is `fixed: false`, and is never "
        "shown publicly.",
    )

    @field_validator("comment")
    @classmethod
    def _blank_is_none(cls, comment: str | None) -> str | None:
        return comment or None


class FeedbackRead(BaseModel):
    """The reporter's own answer, as only they see it."""

    report_id: uuid.UUID
    fixed: bool
    rating: int = Field(examples=[2])
    comment: str | None
    closed_status: ReportStatus = Field(
        description="How the report was closed when answered: `resolved` or `rejected`."
    )
    reopened: bool = Field(
        description="The answer reopened the report (not fixed, on a resolved report)."
    )
    created_at: dt.datetime = Field(description="When the answer was first given.")
    updated_at: dt.datetime = Field(description="When it was last changed.")
    editable_until: dt.datetime = Field(
        description="Until when `PUT` can still change it (7 days after it was given)."
    )

    @classmethod
    def of(cls, feedback: Feedback, *, edit_window: dt.timedelta) -> Self:
        return cls(
            report_id=feedback.report_id,
            fixed=feedback.fixed,
            rating=feedback.rating,
            comment=feedback.comment,
            closed_status=feedback.closed_status,
            reopened=feedback.reopened,
            created_at=feedback.created_at,
            updated_at=feedback.updated_at,
            editable_until=feedback.created_at + edit_window,
        )
