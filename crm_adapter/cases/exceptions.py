"""Errors about cases, as operators' requests meet them."""

from __future__ import annotations

from shared.errors import AppError
from shared.i18n import N_


class CaseNotFound(AppError):
    status_code = 404
    code = "case-not-found"
    title = N_("Case not found")
    detail = N_("No case has this id, and no case belongs to a report with this id.")
