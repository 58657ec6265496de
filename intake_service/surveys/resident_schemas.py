"""What residents see of an open survey, in their language, and the answers they send."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from intake_service.surveys.fields import (
    MAX_OPTIONS,
    RATING_MAX,
    RATING_MIN,
    LongText,
    QuestionType,
)
from intake_service.surveys.models import Survey, SurveyQuestion
from shared.i18n import N_, pick
from shared.params import whole_number
from shared.text import NO_NUL


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
