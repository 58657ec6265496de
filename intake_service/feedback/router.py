"""POST, PUT and GET /v1/reports/{id}/feedback: the reporter's answer once it is closed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Query, status
from pydantic import BaseModel, Field

from intake_service.accounts.dependencies import AccountDep
from intake_service.feedback import service
from intake_service.feedback.exceptions import (
    FeedbackAlreadyGiven,
    FeedbackLocked,
    FeedbackNotFound,
    NotTheReporter,
    ReportNotClosed,
)
from intake_service.feedback.schemas import FeedbackCreate, FeedbackRead
from intake_service.feedback.stats import feedback_summary
from intake_service.operators.dependencies import OperatorReadDep
from intake_service.reports.exceptions import ReportNotFound
from intake_service.throttling.exceptions import TooManyWrites, throttled_responses
from intake_service.write_limits import Writes, limited
from shared.db import utcnow
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing
from shared.params import Timestamp
from shared.routes import Router

router = Router(prefix="/v1/reports", tags=["feedback"])

_WHO = (
    "Only the report's named reporter can: anyone else (a supporter too) gets a 403 "
    "saying so."
)


@router.post(
    "/{report_id}/feedback",
    status_code=status.HTTP_201_CREATED,
    summary="Say whether my closed report was really fixed",
    description="Once the report is closed (`resolved` or `rejected`) its reporter is "
    "asked (a `feedback_requested` notification) and answers here, once per closing: "
    "fixed or not, a rating from 1 to 5 and an optional comment. "
    + _WHO
    + "\n\n**Not fixed** on a `resolved` report reopens it: it is `reopened` at once (with "
    "the comment in its history, shown to the reporter only) and the city's CRM case is "
    "reopened with the comment. A `rejected` report is not reopened (the unit decided the "
    "city will not act), but the comment reaches the unit's case. Publicly a report shows "
    "only whether its reporter says it was fixed, never the comment or who."
    "Limited per client address, account or device (429 with `Retry-After`).",
    responses=throttled_responses(
        NotAuthenticated,
        ReportNotFound,
        NotTheReporter,
        ReportNotClosed,
        FeedbackAlreadyGiven,
        ValidationFailed,
        too_many=TooManyWrites,
    ),
    dependencies=[limited(Writes.OTHER)],
)
async def give_feedback(
    session: SessionDep, account: AccountDep, report_id: uuid.UUID, data: FeedbackCreate
) -> FeedbackRead:
    feedback = await service.give_feedback(
        session, report_id=report_id, account=account, data=data
    )
    return FeedbackRead.of(feedback, edit_window=service.EDIT_WINDOW)


@router.put(
    "/{report_id}/feedback",
    summary="Change my answer",
    description="Replaces the reporter's latest answer, within 7 days of first giving it "
    "(later: 409). Turning it into *not fixed* acts as a first *not fixed* would while that "
    "closing stands; a reopened report is not closed again by turning it back. " + _WHO,
    responses=problem_responses(
        NotAuthenticated,
        ReportNotFound,
        NotTheReporter,
        FeedbackNotFound,
        FeedbackLocked,
        ValidationFailed,
    ),
)
async def change_feedback(
    session: SessionDep, account: AccountDep, report_id: uuid.UUID, data: FeedbackCreate
) -> FeedbackRead:
    feedback = await service.change_feedback(
        session, report_id=report_id, account=account, data=data
    )
    return FeedbackRead.of(feedback, edit_window=service.EDIT_WINDOW)


@router.get(
    "/{report_id}/feedback",
    summary="Read my answer",
    description="The reporter's latest answer about their report, with the comment and "
    "until when it can be changed. " + _WHO,
    responses=problem_responses(
        NotAuthenticated,
        ReportNotFound,
        NotTheReporter,
        FeedbackNotFound,
        ValidationFailed,
    ),
)
async def read_feedback(
    session: SessionDep, account: AccountDep, report_id: uuid.UUID
) -> FeedbackRead:
    feedback = await service.read_feedback(
        session, report_id=report_id, account=account
    )
    return FeedbackRead.of(feedback, edit_window=service.EDIT_WINDOW)


operator_router = Router(prefix="/v1/operator/feedback", tags=["operator"])


class FeedbackFiguresRead(BaseModel):
    code: str | None = Field(
        description="The unit or category code; null for reports closed before a unit "
        "was known.",
        examples=["zdium"],
    )
    count: int = Field(description="Answers in the period.", examples=[120])
    average_rating: float = Field(description="Mean rating, 1 to 5.", examples=[3.9])
    not_fixed_share: float = Field(
        description='Share of answers saying "not fixed", 0 to 1.', examples=[0.12]
    )


class FeedbackSummaryRead(BaseModel):
    since: dt.datetime
    until: dt.datetime
    by_unit: list[FeedbackFiguresRead]
    by_category: list[FeedbackFiguresRead]


@operator_router.get(
    "/summary",
    summary="Residents' feedback per unit and category",
    description="For answers given in `[since, until)` (default: the last 30 days): how "
    "many, the average rating and the share of residents who said the problem was not "
    "fixed, per responsible unit and per category. Needs a `read` operator key.",
    responses=problem_responses(
        OperatorNotAuthenticated, OperatorRoleMissing, ValidationFailed
    ),
)
async def read_feedback_summary(
    session: SessionDep,
    operator: OperatorReadDep,
    since: Annotated[
        Timestamp | None,
        Query(description="Start of the period (inclusive), with offset or Z."),
    ] = None,
    until: Annotated[
        Timestamp | None,
        Query(description="End of the period (exclusive); default now."),
    ] = None,
) -> FeedbackSummaryRead:
    end = until or utcnow()
    start = since or end - dt.timedelta(days=30)
    summary = await feedback_summary(session, since=start, until=end)
    return FeedbackSummaryRead(
        since=summary.since,
        until=summary.until,
        by_unit=[FeedbackFiguresRead(**vars(f)) for f in summary.by_unit],
        by_category=[FeedbackFiguresRead(**vars(f)) for f in summary.by_category],
    )
