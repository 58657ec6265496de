"""Errors of survey use cases."""

from shared.errors import AppError
from shared.i18n import N_


class SurveyNotFound(AppError):
    status_code = 404
    code = "survey-not-found"
    title = N_("Survey not found")
    detail = N_("There is no survey with this id.")


class SurveyNotOpen(AppError):
    status_code = 409
    code = "survey-not-open"
    title = N_("The survey is not open")
    detail = N_(
        "This survey is not taking answers now: it has not started yet, has ended or was "
        "closed. GET /v1/surveys/active lists the open ones."
    )


class SurveyAlreadyAnswered(AppError):
    status_code = 409
    code = "survey-already-answered"
    title = N_("Survey already answered")
    detail = N_("This account or device has answered this survey before.")


class SurveyHasResponses(AppError):
    status_code = 409
    code = "survey-has-responses"
    title = N_("The survey has answers")
    detail = N_(
        "Its questions can no longer change: residents have answered them. Titles, the "
        "introduction and dates can still change; for other questions make a new survey."
    )


class SurveyClosed(AppError):
    status_code = 409
    code = "survey-closed"
    title = N_("The survey is closed")
    detail = N_("A closed survey cannot change any more; make a new one.")
