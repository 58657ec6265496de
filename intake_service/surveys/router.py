"""Surveys: residents' /v1/surveys and operators' /v1/operator/surveys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Response, status
from pydantic.json_schema import SkipJsonSchema

from intake_service.accounts.dependencies import OPTIONAL_AUTH, OptionalAccountDep
from intake_service.deps import LangDep
from intake_service.devices import DeviceIdRequired
from intake_service.operators.dependencies import OperatorManageDep, OperatorReadDep
from intake_service.surveys import results, service
from intake_service.surveys.exceptions import (
    SurveyAlreadyAnswered,
    SurveyClosed,
    SurveyHasResponses,
    SurveyNotFound,
    SurveyNotOpen,
)
from intake_service.surveys.resident_schemas import (
    PublicSurvey,
    SurveyResponseCreate,
    SurveyResponseCreated,
)
from intake_service.surveys.result_schemas import SurveyResults
from intake_service.surveys.schemas import SurveyCreate, SurveyRead, SurveyUpdate
from intake_service.throttling.exceptions import TooManyWrites, throttled_responses
from intake_service.write_limits import Writes, limited
from shared.csv_export import csv_response, csv_responses
from shared.db import utcnow
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing
from shared.routes import Router

router = Router(prefix="/v1/surveys", tags=["surveys"])

READ_PROBLEMS = (OperatorNotAuthenticated,)
MANAGE_PROBLEMS = (OperatorNotAuthenticated, OperatorRoleMissing)


@router.get(
    "/active",
    summary="Open surveys",
    description="The surveys taking answers now, soonest to end first, each with its "
    "questions and options in the language chosen by `?lang=` or `Accept-Language`. "
    "Answer with `POST /v1/surveys/{id}/responses`.",
    responses=problem_responses(ValidationFailed),
)
async def list_open_surveys(session: SessionDep, lang: LangDep) -> list[PublicSurvey]:
    return [PublicSurvey.of(s, lang) for s in await service.open_surveys(session)]


@router.post(
    "/{survey_id}/responses",
    status_code=status.HTTP_201_CREATED,
    summary="Answer a survey",
    description="Answers an open survey, once per account (with a bearer token) or, for a "
    "resident who is not signed in, once per device (`X-Device-Id`, the app's install id). "
    "Each answer names its question: `choices` (option codes: exactly one for "
    "`single_choice`, one or more for `multiple_choice`), `rating` (1 to 5) or `text` (up "
    "to 2000 characters). Required questions must be answered, optional ones may be left "
    "out. A survey that has not started, has ended or was closed is a 409 "
    "(`survey-not-open`), as is a second answer from the same account or device. The "
    "results are anonymous: the account only makes sure it answers once."
    "Limited per client address, account or device (429 with `Retry-After`).",
    responses=throttled_responses(
        DeviceIdRequired,
        NotAuthenticated,
        SurveyNotFound,
        SurveyNotOpen,
        SurveyAlreadyAnswered,
        ValidationFailed,
        too_many=TooManyWrites,
    ),
    dependencies=[limited(Writes.OTHER)],
    openapi_extra=OPTIONAL_AUTH,
)
async def answer_survey(
    session: SessionDep,
    account: OptionalAccountDep,
    survey_id: uuid.UUID,
    data: SurveyResponseCreate,
    x_device_id: Annotated[
        str | SkipJsonSchema[None],
        Header(
            description="The app's install id; needed when not signed in.",
            examples=["3b1f2c9e-7d7a-4f0e-9c55-0e1c5a0b2d11"],
        ),
    ] = None,
) -> SurveyResponseCreated:
    response = await service.respond(
        session, survey_id=survey_id, data=data, account=account, device_id=x_device_id
    )
    return SurveyResponseCreated(
        id=response.id, survey_id=response.survey_id, submitted_at=response.submitted_at
    )


operator_router = Router(prefix="/v1/operator/surveys", tags=["operator"])


@operator_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Make a survey",
    description="A survey with its title (and optional introduction) in Polish, English and "
    "German, the time it is open (`ends_at` after `starts_at`, both with an offset) and "
    "its questions in order: `single_choice` and `multiple_choice` with 2 to 20 options, "
    "`rating` (1 to 5) and `free_text`, each with its text in all three languages. Needs "
    "the `manage` role; recorded in the audit log.",
    responses=problem_responses(*MANAGE_PROBLEMS, ValidationFailed),
)
async def create_survey(
    session: SessionDep, operator: OperatorManageDep, data: SurveyCreate
) -> SurveyRead:
    survey = await service.create_survey(session, data=data, operator=operator)
    return SurveyRead.of(survey, utcnow())


@operator_router.get(
    "",
    summary="List surveys",
    description="Every survey, latest start first, with its status (`scheduled`, `open`, "
    "`ended`, `closed`) and how many residents answered.",
    responses=problem_responses(*READ_PROBLEMS),
)
async def list_surveys(
    session: SessionDep, operator: OperatorReadDep
) -> list[SurveyRead]:
    now = utcnow()
    return [SurveyRead.of(s, now) for s in await service.list_surveys(session)]


@operator_router.get(
    "/{survey_id}",
    summary="Read a survey",
    description="One survey in every language, with its questions, status and number of "
    "responses.",
    responses=problem_responses(*READ_PROBLEMS, SurveyNotFound, ValidationFailed),
)
async def read_survey(
    session: SessionDep, operator: OperatorReadDep, survey_id: uuid.UUID
) -> SurveyRead:
    return SurveyRead.of(await service.get_survey(session, survey_id), utcnow())


@operator_router.patch(
    "/{survey_id}",
    summary="Change a survey",
    description="Changes the fields sent (`intro: null` removes the introduction). The "
    "questions are replaced as a whole, and only while nobody has answered (409 "
    "`survey-has-responses` after that); a closed survey cannot change (409). Needs the "
    "`manage` role; recorded in the audit log with the names of the changed fields.",
    responses=problem_responses(
        *MANAGE_PROBLEMS,
        SurveyNotFound,
        SurveyHasResponses,
        SurveyClosed,
        ValidationFailed,
    ),
)
async def update_survey(
    session: SessionDep,
    operator: OperatorManageDep,
    survey_id: uuid.UUID,
    data: SurveyUpdate,
) -> SurveyRead:
    survey = await service.update_survey(
        session, survey_id=survey_id, data=data, operator=operator
    )
    return SurveyRead.of(survey, utcnow())


@operator_router.post(
    "/{survey_id}/close",
    summary="Close a survey",
    description="Stops taking answers now, before `ends_at`; the results stay. Closing a "
    "closed survey changes nothing. Needs the `manage` role; recorded in the audit log.",
    responses=problem_responses(*MANAGE_PROBLEMS, SurveyNotFound, ValidationFailed),
)
async def close_survey(
    session: SessionDep, operator: OperatorManageDep, survey_id: uuid.UUID
) -> SurveyRead:
    survey = await service.close_survey(session, survey_id=survey_id, operator=operator)
    return SurveyRead.of(survey, utcnow())


@operator_router.get(
    "/{survey_id}/results",
    summary="A survey's results",
    description="Counted per question in the language chosen by `?lang=` or "
    "`Accept-Language`: for choice questions how many chose each option, for ratings how "
    "many gave each rating and the average, for free text every answer, newest first. "
    "Anonymous: nothing says who answered.",
    responses=problem_responses(*READ_PROBLEMS, SurveyNotFound, ValidationFailed),
)
async def read_survey_results(
    session: SessionDep, operator: OperatorReadDep, lang: LangDep, survey_id: uuid.UUID
) -> SurveyResults:
    return await results.results(session, survey_id=survey_id, lang=lang)


@operator_router.get(
    "/{survey_id}/results.csv",
    summary="A survey's responses as CSV",
    description="One row per response, oldest first: when it was submitted, then one "
    "column per question headed by its number and text (in the language chosen by `?lang=` "
    "or `Accept-Language`): the chosen options' labels (several joined by `; `), the "
    "rating, or the text. Anonymous: nothing says who answered.",
    response_class=Response,
    responses={
        **csv_responses(
            "\ufeffsubmitted_at,1. Jak często korzystasz z parku?,2. Jak oceniasz ławki?\r\n"
            "2026-12-02T09:15:00+00:00,Często,4\r\n"
        ),
        **problem_responses(*READ_PROBLEMS, SurveyNotFound, ValidationFailed),
    },
)
async def export_survey_results(
    session: SessionDep, operator: OperatorReadDep, lang: LangDep, survey_id: uuid.UUID
) -> Response:
    survey, header, rows = await results.export(session, survey_id=survey_id, lang=lang)
    return csv_response(header, rows, filename=f"survey-{survey.id}-results.csv")
