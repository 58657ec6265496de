"""The building blocks of the survey schemas: the constraints on survey texts and option
codes, the kinds of question, a survey's status and the texts given in every language."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from intake_service.surveys.models import Survey
from shared.text import NO_NUL, NOT_BLANK

Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    NO_NUL,
    NOT_BLANK,
]
QuestionText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    NO_NUL,
    NOT_BLANK,
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    NO_NUL,
    NOT_BLANK,
]
OptionCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,50}$")]

MAX_OPTIONS = 20
RATING_MIN, RATING_MAX = 1, 5


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    """Exactly one of the options."""
    MULTIPLE_CHOICE = "multiple_choice"
    """One or more of the options."""
    RATING = "rating"
    """A whole number from 1 to 5."""
    FREE_TEXT = "free_text"
    """Up to 2000 characters."""

    @property
    def has_options(self) -> bool:
        return self in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)


class SurveyStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    ENDED = "ended"
    CLOSED = "closed"
    """Closed by an operator before its end."""

    @classmethod
    def of(cls, survey: Survey, now: dt.datetime) -> SurveyStatus:
        if survey.closed_at is not None:
            return cls.CLOSED
        if now < survey.starts_at:
            return cls.SCHEDULED
        return cls.OPEN if now < survey.ends_at else cls.ENDED


class LocalizedLabel(BaseModel):
    """A short text in every language residents read."""

    model_config = ConfigDict(extra="forbid")

    pl: Label
    en: Label
    de: Label


class LocalizedQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pl: QuestionText
    en: QuestionText
    de: QuestionText


class LocalizedLongText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pl: LongText
    en: LongText
    de: LongText
