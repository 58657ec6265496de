"""Errors of the service-area check."""

from shared.errors import AppError
from shared.i18n import N_


class OutsideServiceArea(AppError):
    status_code = 422
    code = "outside-service-area"
    title = N_("Location outside the city")
    detail = N_(
        "The location lies outside the area the city of {city} looks after. Check the "
        "position on the map."
    )
