"""Errors of the operators' figures."""

from __future__ import annotations

from shared.errors import AppError
from shared.i18n import N_


class EmptyPeriod(AppError):
    status_code = 422
    code = "empty-period"
    title = N_("The period is empty")
    detail = N_("The start of the period (since) must be before its end (until).")
