"""API shapes of surveys as operators write and read them.

The field types they are built from are in `fields`, what residents see and answer in
`resident_schemas`, and the results in `result_schemas`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
)

from intake_service.surveys.fields import (
    MAX_OPTIONS,
    LocalizedLabel,
    LocalizedLongText,
    LocalizedQuestion,
    OptionCode,
    QuestionType,
    SurveyStatus,
)
from intake_service.surveys.models import Survey, SurveyQuestion
from shared.i18n import N_
from shared.params import Timestamp


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
