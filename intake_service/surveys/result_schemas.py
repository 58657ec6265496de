"""The results of a survey as operators read them: aggregated and anonymous."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from intake_service.surveys.fields import QuestionType, SurveyStatus


class OptionResult(BaseModel):
    code: str = Field(examples=["often"])
    label: str = Field(examples=["Często"])
    count: int = Field(description="Responses that chose it.", examples=[12])


class RatingResult(BaseModel):
    distribution: dict[str, int] = Field(
        description="Responses per rating, `1` to `5`.",
        examples=[{"1": 0, "2": 1, "3": 4, "4": 9, "5": 6}],
    )
    average: float | None = Field(
        description="Mean rating, two decimals; null without answers.", examples=[4.0]
    )


class TextAnswer(BaseModel):
    text: str
    submitted_at: dt.datetime


class QuestionResult(BaseModel):
    id: uuid.UUID
    type: QuestionType
    text: str = Field(description="In the requested language.")
    required: bool
    answered: int = Field(description="Responses that answered it.", examples=[20])
    options: list[OptionResult] | None = Field(
        default=None, description="Choice questions: every option, in order."
    )
    rating: RatingResult | None = Field(default=None, description="Rating questions.")
    texts: list[TextAnswer] | None = Field(
        default=None, description="Free-text questions: every answer, newest first."
    )


class SurveyResults(BaseModel):
    """Aggregated, anonymous results: no response says who gave it."""

    survey_id: uuid.UUID
    title: str
    status: SurveyStatus
    responses: int = Field(examples=[20])
    questions: list[QuestionResult]
