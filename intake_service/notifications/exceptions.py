"""Errors of notification use cases."""

from shared.errors import AppError
from shared.i18n import N_


class DeviceNotFound(AppError):
    status_code = 404
    code = "device-not-found"
    title = N_("Device not found")
    detail = N_("None of your registered devices has this id.")
