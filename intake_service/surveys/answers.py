"""Checking a resident's answers against the survey's questions (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from intake_service.surveys.fields import QuestionType
from intake_service.surveys.models import SurveyAnswer, SurveyQuestion
from intake_service.surveys.resident_schemas import AnswerIn
from shared.errors import ValidationFailed
from shared.i18n import N_

_MESSAGES: Mapping[str, str] = {
    "unknown_question": N_("This survey has no such question."),
    "duplicate_question": N_("This question is answered more than once."),
    "required": N_("This question must be answered."),
    "choices_expected": N_("Answer this question with option codes in choices."),
    "rating_expected": N_("Answer this question with a rating from 1 to 5."),
    "text_expected": N_("Answer this question with text."),
    "single_choice": N_("Choose exactly one option."),
    "unknown_option": N_("Not one of this question's options."),
    "duplicate_option": N_("Each option may be chosen only once."),
}


def check_answers(
    questions: Sequence[SurveyQuestion], answers: Sequence[AnswerIn]
) -> list[SurveyAnswer]:
    """The answers as rows (one per chosen option); raises with every problem found."""
    by_id = {question.id: question for question in questions}
    problems: list[dict[str, Any]] = []
    rows: list[SurveyAnswer] = []
    answered: set[object] = set()

    def problem(field: str, kind: str, **extra: str) -> None:
        problems.append(
            {
                "field": field,
                "in": "body",
                "code": kind,
                "message": _MESSAGES[kind],
                **extra,
            }
        )

    for index, answer in enumerate(answers):
        field = f"answers.{index}"
        question = by_id.get(answer.question_id)
        if question is None:
            problem(f"{field}.question_id", "unknown_question")
            continue
        if question.id in answered:
            problem(f"{field}.question_id", "duplicate_question")
            continue
        answered.add(question.id)
        found = _rows_of(question, answer, field)
        if isinstance(found, list):
            rows += found
        else:
            problem(*found)
    for question in questions:
        if question.required and question.id not in answered:
            problem("answers", "required", question_id=str(question.id))
    if problems:
        raise ValidationFailed(errors=problems)
    return rows


def _rows_of(
    question: SurveyQuestion, answer: AnswerIn, field: str
) -> list[SurveyAnswer] | tuple[str, str]:
    """The rows of one answer to its question, or where it is wrong and how."""
    kind = QuestionType(question.type)
    if kind.has_options:
        if answer.choices is None:
            return field, "choices_expected"
        codes = {option["code"] for option in question.options}
        if kind is QuestionType.SINGLE_CHOICE and len(answer.choices) != 1:
            return f"{field}.choices", "single_choice"
        if not set(answer.choices) <= codes:
            return f"{field}.choices", "unknown_option"
        if len(set(answer.choices)) != len(answer.choices):
            return f"{field}.choices", "duplicate_option"
        return [
            SurveyAnswer(question_id=question.id, option_code=code)
            for code in answer.choices
        ]
    if kind is QuestionType.RATING:
        if answer.rating is None:
            return field, "rating_expected"
        return [SurveyAnswer(question_id=question.id, rating=answer.rating)]
    if answer.text is None:
        return field, "text_expected"
    return [SurveyAnswer(question_id=question.id, text=answer.text)]
