"""Errors of the service-area check."""

from shared.errors import AppError


class OutsideServiceArea(AppError):
    status_code = 422
    code = "outside-service-area"
    title = {
        "pl": "Miejsce poza obszarem miasta",
        "en": "Location outside the city",
        "de": "Ort außerhalb der Stadt",
    }
    detail = {
        "pl": "Wskazane miejsce leży poza obszarem, którym zajmuje się miasto {city}. "
        "Sprawdź pozycję na mapie.",
        "en": "The location lies outside the area the city of {city} looks after. "
        "Check the position on the map.",
        "de": "Der Ort liegt außerhalb des Gebiets, für das die Stadt {city} zuständig ist. "
        "Prüfen Sie die Position auf der Karte.",
    }
