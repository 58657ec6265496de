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
