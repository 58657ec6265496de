"""Errors of moderation use cases."""

from shared.errors import AppError
from shared.i18n import N_


class ReportPhotoNotFound(AppError):
    status_code = 404
    code = "report-photo-not-found"
    title = N_("Photo not found")
    detail = N_("This report has no photo with this id.")
