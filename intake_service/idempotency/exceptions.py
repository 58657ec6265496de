"""Errors of idempotent requests (draft-ietf-httpapi-idempotency-key-header)."""

from shared.errors import AppError


class InvalidIdempotencyKey(AppError):
    status_code = 400
    code = "invalid-idempotency-key"
    title = {
        "pl": "Nieprawidłowy klucz idempotencji",
        "en": "Invalid Idempotency-Key",
        "de": "Ungültiger Idempotency-Key",
    }
    detail = {
        "pl": "Nagłówek Idempotency-Key musi mieć od 1 do 255 znaków spośród A–Z, a–z, 0–9, „-” i „_”.",
        "en": "The Idempotency-Key header must be 1 to 255 characters of A-Z, a-z, 0-9, '-' and '_'.",
        "de": "Der Header Idempotency-Key muss 1 bis 255 Zeichen aus A–Z, a–z, 0–9, „-“ und „_“ haben.",
    }


class IdempotencyKeyReused(AppError):
    status_code = 422
    code = "idempotency-key-reused"
    title = {
        "pl": "Klucz idempotencji użyty dla innego żądania",
        "en": "Idempotency-Key used for another request",
        "de": "Idempotency-Key für eine andere Anfrage verwendet",
    }
    detail = {
        "pl": "Ten klucz towarzyszył już żądaniu o innej treści. Nowe zgłoszenie wyślij z nowym kluczem.",
        "en": "This key came with a request of different content before. Send a new report with a new key.",
        "de": "Dieser Schlüssel kam schon mit einer Anfrage anderen Inhalts. Senden Sie eine neue Meldung mit neuem Schlüssel.",
    }


class IdempotentRequestInProgress(AppError):
    status_code = 409
    code = "idempotent-request-in-progress"
    title = {
        "pl": "To samo żądanie jest właśnie przetwarzane",
        "en": "The same request is being processed",
        "de": "Dieselbe Anfrage wird gerade verarbeitet",
    }
    detail = {
        "pl": "Żądanie z tym kluczem jeszcze trwa. Ponów je za chwilę, aby dostać jego wynik.",
        "en": "A request with this key is still running. Retry in a moment to get its result.",
        "de": "Eine Anfrage mit diesem Schlüssel läuft noch. Wiederholen Sie sie gleich, um ihr Ergebnis zu erhalten.",
    }

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}
