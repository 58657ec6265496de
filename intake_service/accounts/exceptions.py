"""Errors of account use cases."""

from shared.errors import AppError


class EmailTaken(AppError):
    status_code = 409
    code = "email-taken"
    title = {
        "pl": "Adres e-mail jest już zajęty",
        "en": "E-mail address already registered",
        "de": "E-Mail-Adresse bereits registriert",
    }
    detail = {
        "pl": "Konto z tym adresem już istnieje. Zaloguj się albo użyj innego adresu.",
        "en": "An account with this address exists. Sign in or use another address.",
        "de": "Ein Konto mit dieser Adresse existiert. Melden Sie sich an oder nutzen Sie eine andere.",
    }


class InvalidCredentials(AppError):
    status_code = 401
    code = "invalid-credentials"
    title = {
        "pl": "Błędny e-mail lub hasło",
        "en": "Wrong e-mail or password",
        "de": "Falsche E-Mail oder falsches Passwort",
    }
    detail = {
        "pl": "Sprawdź adres e-mail i hasło, a potem spróbuj ponownie.",
        "en": "Check the e-mail address and password, then try again.",
        "de": "Prüfen Sie E-Mail-Adresse und Passwort und versuchen Sie es erneut.",
    }
