"""Errors of report use cases."""

from shared.errors import AppError
from shared.i18n import N_


class ReportNotFound(AppError):
    status_code = 404
    code = "report-not-found"
    title = N_("Report not found")
    detail = N_("There is no report with this id.")


class UnknownCategory(AppError):
    status_code = 422
    code = "unknown-category"
    title = N_("Unknown category")
    detail = N_(
        "The category '{category}' does not exist or is not active. GET "
        "/v1/categories lists them."
    )


class InvalidBox(AppError):
    status_code = 422
    code = "invalid-bbox"
    title = N_("Invalid map box")
    detail = N_(
        "bbox is four numbers: min_lon,min_lat,max_lon,max_lat (WGS 84), each minimum "
        "no greater than its maximum."
    )


class InvalidStatus(AppError):
    status_code = 422
    code = "invalid-status"
    title = N_("Unknown status")
    detail = N_("Allowed statuses: {allowed}.")


class ReportClosed(AppError):
    status_code = 409
    code = "report-closed"
    title = N_("The report is closed")
    detail = N_(
        "This report can no longer be supported. If the problem is back, file a new "
        "report."
    )
