"""Errors of feedback use cases."""

from shared.errors import AppError
from shared.i18n import N_


class FeedbackNotFound(AppError):
    status_code = 404
    code = "feedback-not-found"
    title = N_("No feedback yet")
    detail = N_("You have not said yet whether this report was fixed.")


class NotTheReporter(AppError):
    status_code = 403
    code = "not-the-reporter"
    title = N_("Only the reporter can answer")
    detail = N_(
        "Only the resident who filed this report can say whether it was fixed. As a "
        "supporter you are told of its changes."
    )


class ReportNotClosed(AppError):
    status_code = 409
    code = "report-not-closed"
    title = N_("The report is not closed")
    detail = N_(
        "Feedback can be given once the report is resolved or rejected. You will be "
        "asked when that happens."
    )


class FeedbackAlreadyGiven(AppError):
    status_code = 409
    code = "feedback-already-given"
    title = N_("Feedback already given")
    detail = N_(
        "You have already answered about this report. Change your answer with PUT "
        "within 7 days of giving it."
    )


class FeedbackLocked(AppError):
    status_code = 409
    code = "feedback-locked"
    title = N_("Feedback can no longer be changed")
    detail = N_("An answer can be changed within 7 days of giving it.")
