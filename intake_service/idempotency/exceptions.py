"""Errors of idempotent requests (draft-ietf-httpapi-idempotency-key-header)."""

from shared.errors import AppError
from shared.i18n import N_


class InvalidIdempotencyKey(AppError):
    status_code = 400
    code = "invalid-idempotency-key"
    title = N_("Invalid Idempotency-Key")
    detail = N_(
        "The Idempotency-Key header must be 16 to 255 characters of A-Z, a-z, 0-9, '-' "
        "and '_', such as a UUID made when the report is sent."
    )


class IdempotencyKeyReused(AppError):
    status_code = 422
    code = "idempotency-key-reused"
    title = N_("Idempotency-Key used for another request")
    detail = N_(
        "This key came with a request of different content before. Send a new report "
        "with a new key."
    )


class IdempotentRequestInProgress(AppError):
    status_code = 409
    code = "idempotent-request-in-progress"
    title = N_("The same request is being processed")
    detail = N_(
        "A request with this key is still running. Retry in a moment to get its result."
    )

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}
