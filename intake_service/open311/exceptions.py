"""Errors of the Open311 server; the app renders them as Open311 `errors` (400, 403, 404)."""

from __future__ import annotations

from typing import Any

from shared.errors import AppError
from shared.i18n import N_, Message, translate


class JurisdictionNotFound(AppError):
    status_code = 404
    code = "open311-jurisdiction-not-found"
    title = N_("Unknown jurisdiction")
    detail = N_("This server serves the jurisdiction '{jurisdiction}' only.")


class ServiceNotFound(AppError):
    status_code = 404
    code = "open311-service-not-found"
    title = N_("Unknown service")
    detail = N_("There is no active service '{service_code}'. GET services lists them.")


class RequestNotFound(AppError):
    status_code = 404
    code = "open311-request-not-found"
    title = N_("Unknown service request")
    detail = N_("There is no service request '{service_request_id}'.")


class TokenNotFound(AppError):
    status_code = 404
    code = "open311-token-not-found"
    title = N_("Unknown token")
    detail = N_("There is no token '{token}'.")


class ApiKeyRequired(AppError):
    status_code = 403
    code = "open311-api-key"
    title = N_("API key required")
    detail = N_(
        "Filing a request needs a valid api_key. The city's IT team gives one to each "
        "client."
    )


class OperatorKeyNotApiKey(ApiKeyRequired):
    detail = N_(
        "This is an operator key (mam_op_…), not an Open311 client's api_key "
        "(mam_o311_…). The city's IT team gives one to each client."
    )


class Open311Invalid(AppError):
    """A parameter is missing or wrong; `reason` (a message id) says which and why."""

    status_code = 400
    code = "open311-invalid"
    title = N_("The request cannot be fulfilled")
    detail = None

    def __init__(self, reason: Message, **params: Any) -> None:
        super().__init__(**params)
        self.reason = reason

    def body(self, lang: str) -> dict[str, Any]:
        body = super().body(lang)
        body["detail"] = translate(self.reason, lang, **self.params)
        return body


class AddressNeedsGeocoder(AppError):
    status_code = 400
    code = "open311-no-geocoder"
    title = N_("Address not supported")
    detail = N_(
        "This server cannot look up addresses (address_string, address_id): send the "
        "position as lat and long."
    )


class UpdateIdTaken(AppError):
    """Another update of the same client came with this `update_id` (Open311 answers it
    with its 400)."""

    status_code = 409
    code = "open311-update-id-taken"
    title = N_("Update id already used")
    detail = N_(
        "The update_id '{update_id}' was sent before with another update; a new update "
        "needs an update_id of its own."
    )
