"""Errors of account use cases."""

from shared.errors import AppError
from shared.i18n import N_


class EmailTaken(AppError):
    status_code = 409
    code = "email-taken"
    title = N_("E-mail address already registered")
    detail = N_("An account with this address exists. Sign in or use another address.")


class InvalidCredentials(AppError):
    status_code = 401
    code = "invalid-credentials"
    title = N_("Wrong e-mail or password")
    detail = N_("Check the e-mail address and password, then try again.")


class InvalidCode(AppError):
    status_code = 400
    code = "invalid-code"
    title = N_("Wrong code")
    detail = N_(
        "This is not the code we sent to this address. Check the latest e-mail from us."
    )


class CodeExpired(AppError):
    status_code = 400
    code = "code-expired"
    title = N_("The code is no longer valid")
    detail = N_(
        "The code has expired or was entered wrongly too many times. Ask for a new code."
    )


class InvalidRefreshToken(AppError):
    status_code = 401
    code = "invalid-refresh-token"
    title = N_("Invalid refresh token")
    detail = N_(
        "The refresh token is invalid, expired or was used already. Please sign in again."
    )
