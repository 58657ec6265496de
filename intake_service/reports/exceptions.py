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


class InvalidCursor(AppError):
    status_code = 422
    code = "invalid-cursor"
    title = {
        "pl": "Nieprawidłowy kursor strony",
        "en": "Invalid page cursor",
        "de": "Ungültiger Seiten-Cursor",
    }
    detail = {
        "pl": "Użyj wartości next_cursor z poprzedniej strony bez zmian.",
        "en": "Pass the next_cursor of the previous page unchanged.",
        "de": "Übergeben Sie den next_cursor der vorigen Seite unverändert.",
    }


class InvalidBox(AppError):
    status_code = 422
    code = "invalid-bbox"
    title = {
        "pl": "Nieprawidłowy prostokąt mapy",
        "en": "Invalid map box",
        "de": "Ungültiger Kartenausschnitt",
    }
    detail = {
        "pl": "bbox to cztery liczby: min_lon,min_lat,max_lon,max_lat (WGS 84), "
        "z minimum nie większym niż maksimum.",
        "en": "bbox is four numbers: min_lon,min_lat,max_lon,max_lat (WGS 84), "
        "each minimum no greater than its maximum.",
        "de": "bbox sind vier Zahlen: min_lon,min_lat,max_lon,max_lat (WGS 84), "
        "jedes Minimum nicht größer als sein Maximum.",
    }


class InvalidStatus(AppError):
    status_code = 422
    code = "invalid-status"
    title = {
        "pl": "Nieznany status",
        "en": "Unknown status",
        "de": "Unbekannter Status",
    }
    detail = {
        "pl": "Dozwolone statusy: {allowed}.",
        "en": "Allowed statuses: {allowed}.",
        "de": "Erlaubte Status: {allowed}.",
    }


class ReportClosed(AppError):
    status_code = 409
    code = "report-closed"
    title = {
        "pl": "Zgłoszenie jest już zamknięte",
        "en": "The report is closed",
        "de": "Die Meldung ist abgeschlossen",
    }
    detail = {
        "pl": "Tego zgłoszenia nie można już poprzeć. Jeśli problem wrócił, wyślij nowe zgłoszenie.",
        "en": "This report can no longer be supported. If the problem is back, file a new report.",
        "de": "Diese Meldung kann nicht mehr unterstützt werden. Ist das Problem zurück, "
        "senden Sie eine neue Meldung.",
    }


class DeviceIdRequired(AppError):
    status_code = 400
    code = "device-id-required"
    title = {
        "pl": "Brak identyfikatora urządzenia",
        "en": "Device id required",
        "de": "Geräte-ID erforderlich",
    }
    detail = {
        "pl": "Bez zalogowania wyślij nagłówek X-Device-Id (8–100 znaków A–Z, a–z, 0–9, „-”, „_”), "
        "aby poparcie liczyło się raz na urządzenie.",
        "en": "When not signed in, send an X-Device-Id header (8-100 of A-Z, a-z, 0-9, '-', '_') "
        "so that support counts once per device.",
        "de": "Ohne Anmeldung senden Sie den Header X-Device-Id (8–100 Zeichen A–Z, a–z, 0–9, "
        "„-“, „_“), damit die Unterstützung einmal pro Gerät zählt.",
    }
