"""The error of a used-up limit."""

from __future__ import annotations

import math
from typing import Any

from shared.errors import AppError, problem_responses
from shared.i18n import N_


class TooManyAttempts(AppError):
    status_code = 429
    code = "too-many-attempts"
    title = N_("Too many attempts")
    detail = N_("Too many attempts in a short time. Try again in {minutes} min.")

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(minutes=max(1, math.ceil(retry_after / 60)))
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class TooManyWrites(TooManyAttempts):
    code = "too-many-requests"
    title = N_("Too many requests")
    detail = N_("Too much sent from here in a short time. Try again in {minutes} min.")


def throttled_responses(
    *errors: int | type[AppError],
    too_many: type[TooManyAttempts] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """`problem_responses(...)` plus a 429 (`too_many`, by default TooManyAttempts) that
    documents its `Retry-After` header."""
    responses = problem_responses(*errors, too_many or TooManyAttempts)
    responses[429]["headers"] = {
        "Retry-After": {
            "description": "Seconds until the limit is lifted.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    return responses
