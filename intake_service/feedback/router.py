"""POST, PUT and GET /v1/reports/{id}/feedback: the reporter's answer once it is closed."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from intake_service.deps import AccountDep
from intake_service.feedback import service
from intake_service.feedback.exceptions import (
    FeedbackAlreadyGiven,
    FeedbackLocked,
    FeedbackNotFound,
    ReportNotClosed,
)
from intake_service.feedback.schemas import FeedbackCreate, FeedbackRead
from intake_service.reports.exceptions import ReportNotFound
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses

router = APIRouter(prefix="/v1/reports", tags=["feedback"])

_WHO = (
    "Only the report's named reporter can: anyone else's report is a 404, as if it did not "
    "exist."
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
    "only whether its reporter says it was fixed, never the comment or who.",
    responses=problem_responses(
        NotAuthenticated,
        ReportNotFound,
        ReportNotClosed,
        FeedbackAlreadyGiven,
        ValidationFailed,
    ),
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
        NotAuthenticated, ReportNotFound, FeedbackNotFound, ValidationFailed
    ),
)
async def read_feedback(
    session: SessionDep, account: AccountDep, report_id: uuid.UUID
) -> FeedbackRead:
    feedback = await service.read_feedback(
        session, report_id=report_id, account=account
    )
    return FeedbackRead.of(feedback, edit_window=service.EDIT_WINDOW)
