"""A survey's results: counted per question, and one CSV row per response (anonymous)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.surveys import repository
from intake_service.surveys.fields import (
    RATING_MAX,
    RATING_MIN,
    QuestionType,
    SurveyStatus,
)
from intake_service.surveys.models import Survey, SurveyQuestion, SurveyResponse
from intake_service.surveys.result_schemas import (
    OptionResult,
    QuestionResult,
    RatingResult,
    SurveyResults,
    TextAnswer,
)
from intake_service.surveys.service import get_survey
from shared.csv_export import Cell
from shared.db import utcnow
from shared.i18n import pick


async def results(
    session: AsyncSession, *, survey_id: uuid.UUID, lang: str
) -> SurveyResults:
    survey = await get_survey(session, survey_id)
    ids = [question.id for question in survey.questions]
    answered = await repository.answered_counts(session, ids)
    options = await repository.option_counts(session, ids)
    ratings = await repository.rating_counts(session, ids)
    texts: dict[uuid.UUID, list[TextAnswer]] = {}
    for question_id, text, submitted_at in await repository.texts(session, ids):
        texts.setdefault(question_id, []).append(
            TextAnswer(text=text, submitted_at=submitted_at)
        )
    questions = []
    for question in survey.questions:
        kind = QuestionType(question.type)
        result = QuestionResult(
            id=question.id,
            type=kind,
            text=pick(question.text, lang),
            required=question.required,
            answered=answered.get(question.id, 0),
        )
        if kind.has_options:
            result.options = [
                OptionResult(
                    code=option["code"],
                    label=pick(option["label"], lang),
                    count=options.get((question.id, option["code"]), 0),
                )
                for option in question.options
            ]
        elif kind is QuestionType.RATING:
            result.rating = _rating(
                {r: ratings.get((question.id, r), 0) for r in _SCALE}
            )
        else:
            result.texts = texts.get(question.id, [])
        questions.append(result)
    return SurveyResults(
        survey_id=survey.id,
        title=pick(survey.title, lang),
        status=SurveyStatus.of(survey, utcnow()),
        responses=survey.responses_count,
        questions=questions,
    )


_SCALE = range(RATING_MIN, RATING_MAX + 1)


def _rating(counts: dict[int, int]) -> RatingResult:
    total = sum(counts.values())
    average = round(sum(r * n for r, n in counts.items()) / total, 2) if total else None
    return RatingResult(
        distribution={str(r): n for r, n in counts.items()}, average=average
    )


async def export(
    session: AsyncSession, *, survey_id: uuid.UUID, lang: str
) -> tuple[Survey, list[str], list[list[Cell]]]:
    """The survey, a header (submitted_at, then each question) and one row per response."""
    survey = await get_survey(session, survey_id)
    header = ["submitted_at"] + [
        f"{question.position + 1}. {pick(question.text, lang)}"
        for question in survey.questions
    ]
    rows = [
        _row(survey.questions, response, lang)
        for response in await repository.responses(session, survey.id)
    ]
    return survey, header, rows


def _row(
    questions: Sequence[SurveyQuestion], response: SurveyResponse, lang: str
) -> list[Cell]:
    """A response's answers under their questions; choices by label, several joined by `; `."""
    row: list[Cell] = [response.submitted_at.isoformat()]
    for question in questions:
        answers = [a for a in response.answers if a.question_id == question.id]
        if not answers:
            row.append(None)
        elif QuestionType(question.type).has_options:
            chosen = {answer.option_code for answer in answers}
            row.append(
                "; ".join(
                    pick(option["label"], lang)
                    for option in question.options
                    if option["code"] in chosen
                )
            )
        else:
            row.append(answers[0].rating or answers[0].text)
    return row
