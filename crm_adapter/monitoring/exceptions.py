"""Errors of the operators' case list and figures."""

from __future__ import annotations

from shared.errors import AppError
from shared.i18n import N_


class CaseNotFound(AppError):
    status_code = 404
    code = "case-not-found"
    title = N_("Case not found")
    detail = N_("No case has this id, and no case belongs to a report with this id.")


class EmptyPeriod(AppError):
    status_code = 422
    code = "empty-period"
    title = N_("The period is empty")
    detail = N_("The start of the period (since) must be before its end (until).")
