"""Errors of report use cases."""

from shared.errors import AppError


class ReportNotFound(AppError):
    status_code = 404
    code = "report-not-found"
    title = {
        "pl": "Nie ma takiego zgłoszenia",
        "en": "Report not found",
        "de": "Meldung nicht gefunden",
    }
    detail = {
        "pl": "Zgłoszenie o tym identyfikatorze nie istnieje.",
        "en": "There is no report with this id.",
        "de": "Es gibt keine Meldung mit dieser Kennung.",
    }


class UnknownCategory(AppError):
    status_code = 422
    code = "unknown-category"
    title = {
        "pl": "Nieznana kategoria",
        "en": "Unknown category",
        "de": "Unbekannte Kategorie",
    }
    detail = {
        "pl": "Kategoria „{category}” nie istnieje albo nie jest aktywna. "
        "Listę kategorii zwraca GET /v1/categories.",
        "en": "The category '{category}' does not exist or is not active. "
        "GET /v1/categories lists them.",
        "de": "Die Kategorie „{category}“ existiert nicht oder ist nicht aktiv. "
        "GET /v1/categories listet sie auf.",
    }
