"""Queries on surveys and their answers; never commits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyParticipant,
    SurveyResponse,
)
from shared.db import upsert_insert


async def get(
    session: AsyncSession, survey_id: uuid.UUID, *, for_update: bool = False
) -> Survey | None:
    query = select(Survey).where(Survey.id == survey_id)
    if for_update:
        query = query.with_for_update(of=Survey)
    return await session.scalar(query)


async def all_surveys(session: AsyncSession) -> list[Survey]:
    query = select(Survey).order_by(Survey.starts_at.desc(), Survey.id)
    return list((await session.scalars(query)).all())


async def open_at(session: AsyncSession, now: dt.datetime) -> list[Survey]:
    query = (
        select(Survey)
        .where(
            Survey.closed_at.is_(None), Survey.starts_at <= now, Survey.ends_at > now
        )
        .order_by(Survey.ends_at, Survey.id)
    )
    return list((await session.scalars(query)).all())


async def add_participant(
    session: AsyncSession,
    *,
    survey_id: uuid.UUID,
    account_id: uuid.UUID | None,
    device_id: str | None,
) -> bool:
    """Record that this account or device answered; False when it had answered before."""
    statement = (
        upsert_insert(session, SurveyParticipant)
        .values(
            id=uuid.uuid4(),
            survey_id=survey_id,
            account_id=account_id,
            device_id=device_id,
        )
        .on_conflict_do_nothing()
        .returning(SurveyParticipant.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def answered_counts(
    session: AsyncSession, question_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many responses answered each question."""
    query = (
        select(
            SurveyAnswer.question_id,
            func.count(func.distinct(SurveyAnswer.response_id)),
        )
        .where(SurveyAnswer.question_id.in_(question_ids))
        .group_by(SurveyAnswer.question_id)
    )
    rows = (await session.execute(query)).all()
    return {question_id: count for question_id, count in rows}  # noqa: C416


async def option_counts(
    session: AsyncSession, question_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], int]:
    query = (
        select(SurveyAnswer.question_id, SurveyAnswer.option_code, func.count())
        .where(
            SurveyAnswer.question_id.in_(question_ids),
            SurveyAnswer.option_code.is_not(None),
        )
        .group_by(SurveyAnswer.question_id, SurveyAnswer.option_code)
    )
    return {
        (qid, str(code)): count
        for qid, code, count in (await session.execute(query)).all()
    }


async def rating_counts(
    session: AsyncSession, question_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, int], int]:
    query = (
        select(SurveyAnswer.question_id, SurveyAnswer.rating, func.count())
        .where(
            SurveyAnswer.question_id.in_(question_ids),
            SurveyAnswer.rating.is_not(None),
        )
        .group_by(SurveyAnswer.question_id, SurveyAnswer.rating)
    )
    return {
        (qid, int(rating or 0)): count
        for qid, rating, count in (await session.execute(query)).all()
    }


async def texts(
    session: AsyncSession, question_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, str, dt.datetime]]:
    """Free-text answers with their response's time, newest first."""
    query = (
        select(SurveyAnswer.question_id, SurveyAnswer.text, SurveyResponse.submitted_at)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            SurveyAnswer.question_id.in_(question_ids), SurveyAnswer.text.is_not(None)
        )
        .order_by(SurveyResponse.submitted_at.desc(), SurveyAnswer.id.desc())
    )
    rows = (await session.execute(query)).all()
    return [(qid, str(text), at) for qid, text, at in rows]


async def responses(
    session: AsyncSession, survey_id: uuid.UUID
) -> list[SurveyResponse]:
    """Every response with its answers, oldest first."""
    query = (
        select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey_id)
        .order_by(SurveyResponse.submitted_at, SurveyResponse.id)
    )
    return list((await session.scalars(query)).all())
