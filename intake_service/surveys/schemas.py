"""API shapes of surveys: what operators send and read, and what residents see and answer."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from intake_service.surveys.models import Survey, SurveyQuestion
from shared.i18n import N_, pick
from shared.params import Timestamp, whole_number
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


class OptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: OptionCode = Field(
        description="Stable code residents answer with (a-z, 0-9, '_', '-').",
        examples=["often"],
    )
    label: LocalizedLabel


def _options_by_type(schema: dict[str, Any]) -> None:
    """What `_options_fit_the_type` checks, in the document too (but for unique codes)."""
    kinds: dict[bool, list[str]] = {True: [], False: []}
    for kind in QuestionType:
        kinds[kind.has_options].append(kind.value)
    schema["oneOf"] = [
        {
            "properties": {
                "type": {"enum": kinds[True]},
                "options": {"minItems": 2},
            },
            "required": ["options"],
        },
        {
            "properties": {
                "type": {"enum": kinds[False]},
                "options": {"maxItems": 0},
            },
        },
    ]


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_options_by_type)

    type: QuestionType
    text: LocalizedQuestion
    required: StrictBool = Field(
        default=False, description="Whether every response must answer it."
    )
    options: list[OptionIn] = Field(
        default_factory=list,
        max_length=MAX_OPTIONS,
        validate_default=True,
        description="For choice questions: 2 to 20 options, each code once. Left out for "
        "`rating` and `free_text`.",
    )

    @field_validator("options")
    @classmethod
    def _options_fit_the_type(
        cls, options: list[OptionIn], info: ValidationInfo
    ) -> list[OptionIn]:
        kind = info.data.get("type")
        if kind is None:  # the type itself is wrong; that error is enough
            return options
        if not kind.has_options:
            if options:
                raise ValueError(N_("Only choice questions have options."))
            return options
        if len(options) < 2:
            raise ValueError(N_("A choice question needs 2 to 20 options."))
        codes = [option.code for option in options]
        if len(set(codes)) != len(codes):
            raise ValueError(N_("Each option code may appear only once."))
        return options


def _ends_after_start(ends_at: dt.datetime, info: ValidationInfo) -> dt.datetime:
    starts_at = info.data.get("starts_at")
    if starts_at is not None and ends_at <= starts_at:
        raise ValueError(ENDS_BEFORE_START)
    return ends_at


ENDS_BEFORE_START = N_("The survey must end after it starts.")

_EXAMPLE_QUESTIONS: list[Any] = [
    {
        "type": "single_choice",
        "text": {
            "pl": "Jak często korzystasz z parku?",
            "en": "How often do you use the park?",
            "de": "Wie oft nutzen Sie den Park?",
        },
        "required": True,
        "options": [
            {
                "code": "often",
                "label": {"pl": "Często", "en": "Often", "de": "Oft"},
            },
            {
                "code": "rarely",
                "label": {"pl": "Rzadko", "en": "Rarely", "de": "Selten"},
            },
        ],
    },
    {
        "type": "rating",
        "text": {
            "pl": "Jak oceniasz ławki?",
            "en": "How do you rate the benches?",
            "de": "Wie bewerten Sie die Bänke?",
        },
        "required": True,
    },
    {
        "type": "free_text",
        "text": {
            "pl": "Co zmienić?",
            "en": "What should change?",
            "de": "Was sollte sich ändern?",
        },
    },
]


class SurveyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": {
                        "pl": "Park Południowy",
                        "en": "Southern Park",
                        "de": "Südpark",
                    },
                    "intro": {
                        "pl": "Pomóż nam zaplanować remont.",
                        "en": "Help us plan the renovation.",
                        "de": "Helfen Sie uns, die Renovierung zu planen.",
                    },
                    "starts_at": "2026-12-01T00:00:00+01:00",
                    "ends_at": "2027-01-01T00:00:00+01:00",
                    "questions": _EXAMPLE_QUESTIONS,
                }
            ]
        },
    )

    title: LocalizedLabel
    intro: LocalizedLongText | None = Field(
        default=None, description="Shown above the questions."
    )
    starts_at: Timestamp = Field(
        description="Open for answers from (with offset or Z)."
    )
    ends_at: Timestamp = Field(description="Open until (exclusive); after `starts_at`.")
    questions: list[QuestionIn] = Field(
        min_length=1, max_length=50, description="In the order residents see them."
    )

    _ends_after_start = field_validator("ends_at")(_ends_after_start)


def _no_null(schema: dict[str, Any]) -> None:
    """The JSON Schema of an optional field that may be left out but not sent as null."""
    [kind] = [branch for branch in schema.pop("anyOf") if branch != {"type": "null"}]
    schema.pop("default", None)
    schema.update(kind)


class SurveyUpdate(BaseModel):
    """Only the fields sent change; `intro: null` removes the introduction."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"ends_at": "2027-01-15T00:00:00+01:00"},
                {"questions": _EXAMPLE_QUESTIONS[1:]},
            ]
        },
    )

    # Left out, they stay; null is refused (`_not_null`), so the schema does not offer it.
    title: LocalizedLabel | None = Field(default=None, json_schema_extra=_no_null)
    intro: LocalizedLongText | None = None
    starts_at: Timestamp | None = Field(default=None, json_schema_extra=_no_null)
    ends_at: Timestamp | None = Field(default=None, json_schema_extra=_no_null)
    questions: list[QuestionIn] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Replaces every question (new ids); refused once the survey has answers.",
        json_schema_extra=_no_null,
    )

    @field_validator("title", "starts_at", "ends_at", "questions")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(N_("Leave this field out rather than sending null."))
        return value

    _ends_after_start = field_validator("ends_at")(_ends_after_start)


class OptionRead(BaseModel):
    code: str = Field(examples=["often"])
    label: LocalizedLabel


class QuestionRead(BaseModel):
    id: uuid.UUID
    type: QuestionType
    text: LocalizedQuestion
    required: bool
    options: list[OptionRead] = Field(description="Empty unless a choice question.")

    @classmethod
    def of(cls, question: SurveyQuestion) -> Self:
        return cls(
            id=question.id,
            type=QuestionType(question.type),
            text=LocalizedQuestion(**question.text),
            required=question.required,
            options=[
                OptionRead(code=o["code"], label=LocalizedLabel(**o["label"]))
                for o in question.options
            ],
        )


class SurveyRead(BaseModel):
    """A survey as operators see it: every language, its status and how many answered."""

    id: uuid.UUID
    title: LocalizedLabel
    intro: LocalizedLongText | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    closed_at: dt.datetime | None
    status: SurveyStatus
    responses: int = Field(description="How many residents answered.", examples=[42])
    created_at: dt.datetime
    updated_at: dt.datetime
    questions: list[QuestionRead]

    @classmethod
    def of(cls, survey: Survey, now: dt.datetime) -> Self:
        return cls(
            id=survey.id,
            title=LocalizedLabel(**survey.title),
            intro=LocalizedLongText(**survey.intro) if survey.intro else None,
            starts_at=survey.starts_at,
            ends_at=survey.ends_at,
            closed_at=survey.closed_at,
            status=SurveyStatus.of(survey, now),
            responses=survey.responses_count,
            created_at=survey.created_at,
            updated_at=survey.updated_at,
            questions=[QuestionRead.of(q) for q in survey.questions],
        )


class PublicOption(BaseModel):
    code: str = Field(description="What to answer with.", examples=["often"])
    label: str = Field(examples=["Często"])


class PublicQuestion(BaseModel):
    id: uuid.UUID = Field(description="What to answer with.")
    type: QuestionType = Field(
        description="`single_choice` (one option), `multiple_choice` (one or more), "
        "`rating` (a whole number from 1 to 5) or `free_text` (up to 2000 characters)."
    )
    text: str = Field(examples=["Jak często korzystasz z parku?"])
    required: bool
    options: list[PublicOption] = Field(description="Empty unless a choice question.")

    @classmethod
    def of(cls, question: SurveyQuestion, lang: str) -> Self:
        return cls(
            id=question.id,
            type=QuestionType(question.type),
            text=pick(question.text, lang),
            required=question.required,
            options=[
                PublicOption(code=o["code"], label=pick(o["label"], lang))
                for o in question.options
            ],
        )


class PublicSurvey(BaseModel):
    """An open survey in the resident's language."""

    id: uuid.UUID
    title: str = Field(examples=["Park Południowy"])
    intro: str | None = Field(examples=["Pomóż nam zaplanować remont."])
    starts_at: dt.datetime
    ends_at: dt.datetime = Field(description="Answers are taken until then.")
    questions: list[PublicQuestion]

    @classmethod
    def of(cls, survey: Survey, lang: str) -> Self:
        return cls(
            id=survey.id,
            title=pick(survey.title, lang),
            intro=pick(survey.intro, lang) if survey.intro else None,
            starts_at=survey.starts_at,
            ends_at=survey.ends_at,
            questions=[PublicQuestion.of(q, lang) for q in survey.questions],
        )


ChoiceCode = Annotated[str, StringConstraints(min_length=1, max_length=50), NO_NUL]


def _answer_of_one_kind(schema: dict[str, Any]) -> None:
    """What `AnswerIn._one_kind_of_answer` checks, in the document too: exactly one of
    choices, rating and text is given, not null."""
    kinds = ("choices", "rating", "text")
    schema["oneOf"] = [
        {
            "required": [kind],
            "properties": {
                other: {"not": {"type": "null"}} if other == kind else {"type": "null"}
                for other in kinds
            },
        }
        for kind in kinds
    ]


class AnswerIn(BaseModel):
    """The answer to one question: `choices`, `rating` or `text`, as its type asks."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_answer_of_one_kind,
    )

    question_id: uuid.UUID
    choices: list[ChoiceCode] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_OPTIONS,
        description="Option codes: exactly one for `single_choice`, one or more for "
        "`multiple_choice`.",
    )
    rating: (
        Annotated[
            StrictInt,
            Field(ge=RATING_MIN, le=RATING_MAX),
            BeforeValidator(whole_number),
        ]
        | None
    ) = Field(default=None, description="1 to 5.")
    text: LongText | None = Field(
        default=None, description="For `free_text`: 1 to 2000 characters (trimmed)."
    )

    @model_validator(mode="after")
    def _one_kind_of_answer(self) -> Self:
        given = [v for v in (self.choices, self.rating, self.text) if v is not None]
        if len(given) != 1:
            raise ValueError(N_("Give exactly one of choices, rating or text."))
        return self


class SurveyResponseCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "answers": [
                        {
                            "question_id": "0b8f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b",
                            "choices": ["often"],
                        },
                        {
                            "question_id": "1c9a4d2f-3b5e-4f6a-9b0c-2d3e4f5a6b7c",
                            "rating": 4,
                        },
                        {
                            "question_id": "2d0b5e3a-4c6f-4a7b-8c1d-3e4f5a6b7c8d",
                            "text": "Więcej ławek w cieniu.",
                        },
                    ]
                }
            ]
        },
    )

    answers: list[AnswerIn] = Field(
        min_length=1,
        max_length=50,
        description="One per answered question; optional questions may be left out.",
    )


class SurveyResponseCreated(BaseModel):
    id: uuid.UUID
    survey_id: uuid.UUID
    submitted_at: dt.datetime


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
