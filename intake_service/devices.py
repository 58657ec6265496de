"""Residents who are not signed in, told apart by their app's install id (`X-Device-Id`)."""

from __future__ import annotations

import re

from intake_service.accounts.models import Account
from shared.errors import AppError
from shared.i18n import N_

_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{8,100}")


class DeviceIdRequired(AppError):
    status_code = 400
    code = "device-id-required"
    title = N_("Device id required")
    detail = N_(
        "When not signed in, send an X-Device-Id header (8-100 of A-Z, a-z, 0-9, '-', "
        "'_') so that each device counts once."
    )


def device_to_count(account: Account | None, device_id: str | None) -> str | None:
    """Who counts once: None for a signed-in resident (their account counts), else the device.

    Without an account the `X-Device-Id` must be given and look like an install id.
    """
    if account is not None:
        return None
    if device_id is None or not _DEVICE_ID.fullmatch(device_id):
        raise DeviceIdRequired()
    return device_id
