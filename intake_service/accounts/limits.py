"""The limits on signing in, entering codes and asking for mails, from the settings."""

from __future__ import annotations

from intake_service.accounts.repository import email_key
from intake_service.config import Settings
from intake_service.throttling.service import Limit, client_subject, limit


def _limit(settings: Settings, scope: str, subject: str, maximum: int) -> Limit:
    return limit(
        settings.secret_key.get_secret_value(),
        scope,
        subject,
        maximum=maximum,
        window_seconds=settings.throttle_window_seconds,
    )


def signin_of_account(settings: Settings, email: str) -> Limit:
    """Failed sign-ins to one address, whether an account has it or not (no enumeration)."""
    return _limit(
        settings, "signin-email", email_key(email), settings.throttle_signin_per_account
    )


def signin_of_client(settings: Settings, client: str) -> Limit:
    return _limit(
        settings,
        "signin-client",
        client_subject(client),
        settings.throttle_signin_per_client,
    )


def codes_of_account(settings: Settings, email: str) -> Limit:
    """Wrong codes entered for one address, verification and reset together."""
    return _limit(
        settings, "code-email", email_key(email), settings.throttle_codes_per_account
    )


def codes_of_client(settings: Settings, client: str) -> Limit:
    return _limit(
        settings,
        "code-client",
        client_subject(client),
        settings.throttle_codes_per_client,
    )


def mails_of_client(settings: Settings, client: str) -> Limit:
    """Requests that mail a code (registering, resending, resetting) from one client."""
    return _limit(
        settings,
        "mail-client",
        client_subject(client),
        settings.throttle_mails_per_client,
    )
