"""Surveys, their questions, and the answers, kept apart from who gave them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake_service.db import Base


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Texts in every language: {"pl": …, "en": …, "de": …}.
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    intro: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Open for answers from `starts_at` (inclusive) until `ends_at`, unless closed before.
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    # Kept here so that lists need no count, and so that answering takes the survey's lock.
    responses_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    questions: Mapped[list[SurveyQuestion]] = relationship(
        order_by="SurveyQuestion.position",
        lazy="selectin",
        cascade="all, delete-orphan",
    )

    def is_open(self, now: dt.datetime) -> bool:
        return self.closed_at is None and self.starts_at <= now < self.ends_at


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    # single_choice, multiple_choice, rating (1 to 5) or free_text.
    type: Mapped[str] = mapped_column(String(20))
    text: Mapped[dict[str, str]] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(default=False, server_default=false())
    # For choice questions: [{"code": …, "label": {"pl": …, "en": …, "de": …}}], in order.
    options: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )

    __table_args__ = (UniqueConstraint("survey_id", "position"),)


class SurveyParticipant(Base):
    """That an account or a device answered a survey, so it answers once; not what it said.

    No link to the response and no time: the results stay anonymous.
    """

    __tablename__ = "survey_participants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE")
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("survey_id", "account_id"),
        UniqueConstraint("survey_id", "device_id"),
    )


class SurveyResponse(Base):
    """One resident's answers, anonymous."""

    __tablename__ = "survey_responses"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE")
    )
    submitted_at: Mapped[dt.datetime]

    answers: Mapped[list[SurveyAnswer]] = relationship(
        order_by="SurveyAnswer.id", lazy="selectin", cascade="all, delete-orphan"
    )


# A survey's responses in time order (exports, free-text answers newest first).
Index(
    "ix_survey_responses_survey_id_submitted_at",
    SurveyResponse.survey_id,
    SurveyResponse.submitted_at,
)


class SurveyAnswer(Base):
    """One answer: a chosen option (one row per option), a rating, or a text."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    response_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    option_code: Mapped[str | None] = mapped_column(String(50))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    text: Mapped[str | None] = mapped_column(Text)
