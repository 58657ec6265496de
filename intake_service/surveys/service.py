"""Surveys: operators make, change and close them; residents answer each once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.devices import device_to_count
from intake_service.operators import audit
from intake_service.surveys import repository
from intake_service.surveys.answers import check_answers
from intake_service.surveys.exceptions import (
    SurveyAlreadyAnswered,
    SurveyClosed,
    SurveyHasResponses,
    SurveyNotFound,
    SurveyNotOpen,
)
from intake_service.surveys.models import Survey, SurveyQuestion, SurveyResponse
from intake_service.surveys.resident_schemas import SurveyResponseCreate
from intake_service.surveys.schemas import (
    ENDS_BEFORE_START,
    QuestionIn,
    SurveyCreate,
    SurveyUpdate,
)
from shared.db import utcnow
from shared.errors import ValidationFailed
from shared.operators import Operator


def _questions(questions: Sequence[QuestionIn]) -> list[SurveyQuestion]:
    return [
        SurveyQuestion(
            position=position,
            type=question.type.value,
            text=question.text.model_dump(),
            required=question.required,
            options=[option.model_dump() for option in question.options],
        )
        for position, question in enumerate(questions)
    ]


async def create_survey(
    session: AsyncSession, *, data: SurveyCreate, operator: Operator
) -> Survey:
    now = utcnow()
    survey = Survey(
        id=uuid.uuid4(),
        title=data.title.model_dump(),
        intro=data.intro.model_dump() if data.intro else None,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        created_at=now,
        updated_at=now,
        questions=_questions(data.questions),
    )
    session.add(survey)
    action = audit.record(
        session,
        operator,
        action="survey.create",
        target_type="survey",
        target_id=survey.id,
    )
    await audit.commit(session, action)
    return survey


async def get_survey(session: AsyncSession, survey_id: uuid.UUID) -> Survey:
    survey = await repository.get(session, survey_id)
    if survey is None:
        raise SurveyNotFound()
    return survey


async def list_surveys(session: AsyncSession) -> list[Survey]:
    return await repository.all_surveys(session)


async def update_survey(
    session: AsyncSession,
    *,
    survey_id: uuid.UUID,
    data: SurveyUpdate,
    operator: Operator,
) -> Survey:
    """Change the fields sent; questions only while nobody has answered."""
    survey = await repository.get(session, survey_id, for_update=True)
    if survey is None:
        raise SurveyNotFound()
    if survey.closed_at is not None:
        raise SurveyClosed()
    changed = sorted(data.model_fields_set)
    if data.questions is not None and survey.responses_count > 0:
        raise SurveyHasResponses()
    starts_at = data.starts_at or survey.starts_at
    ends_at = data.ends_at or survey.ends_at
    if ends_at <= starts_at:
        field = "ends_at" if data.ends_at else "starts_at"
        raise ValidationFailed(
            errors=[
                {
                    "field": field,
                    "in": "body",
                    "code": "value_error",
                    "message": ENDS_BEFORE_START,
                }
            ]
        )
    if not changed:
        return survey
    if data.title is not None:
        survey.title = data.title.model_dump()
    if "intro" in data.model_fields_set:
        survey.intro = data.intro.model_dump() if data.intro else None
    survey.starts_at, survey.ends_at = starts_at, ends_at
    if data.questions is not None:
        # The old questions go first: the new ones take their positions.
        survey.questions.clear()
        await session.flush()
        survey.questions.extend(_questions(data.questions))
    survey.updated_at = utcnow()
    action = audit.record(
        session,
        operator,
        action="survey.update",
        target_type="survey",
        target_id=survey.id,
        details={"fields": changed},
    )
    await audit.commit(session, action)
    return survey


async def close_survey(
    session: AsyncSession, *, survey_id: uuid.UUID, operator: Operator
) -> Survey:
    """Stop taking answers now; closing a closed survey changes nothing."""
    survey = await repository.get(session, survey_id, for_update=True)
    if survey is None:
        raise SurveyNotFound()
    if survey.closed_at is not None:
        return survey
    survey.closed_at = survey.updated_at = utcnow()
    action = audit.record(
        session,
        operator,
        action="survey.close",
        target_type="survey",
        target_id=survey.id,
    )
    await audit.commit(session, action)
    return survey


async def open_surveys(session: AsyncSession) -> list[Survey]:
    return await repository.open_at(session, utcnow())


async def respond(
    session: AsyncSession,
    *,
    survey_id: uuid.UUID,
    data: SurveyResponseCreate,
    account: Account | None,
    device_id: str | None,
) -> SurveyResponse:
    """Store one resident's answers, once per account or device, without saying whose."""
    device = device_to_count(account, device_id)
    # Locked: the questions cannot change while they are answered.
    survey = await repository.get(session, survey_id, for_update=True)
    if survey is None:
        raise SurveyNotFound()
    now = utcnow()
    if not survey.is_open(now):
        raise SurveyNotOpen()
    answers = check_answers(survey.questions, data.answers)
    if not await repository.add_participant(
        session,
        survey_id=survey.id,
        account_id=account.id if account else None,
        device_id=device,
    ):
        raise SurveyAlreadyAnswered()
    response = SurveyResponse(survey_id=survey.id, submitted_at=now, answers=answers)
    session.add(response)
    survey.responses_count += 1
    await session.commit()
    return response
