"""Errors of the status mapping endpoints."""

from __future__ import annotations

from shared.errors import AppError
from shared.i18n import N_


class UnknownConnector(AppError):
    status_code = 404
    code = "unknown-connector"
    title = N_("Unknown connector")
    detail = N_(
        "There is no CRM connector named {connector}: neither a default mapping file nor "
        "a unit refers to it."
    )


class StatusMappingNotFound(AppError):
    status_code = 404
    code = "status-mapping-not-found"
    title = N_("Status mapping not found")
    detail = N_("The connector {connector} has no mapping for the CRM code {code}.")
