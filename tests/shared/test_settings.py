"""Production refuses to start with the development secrets that make `make run` work."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from crm_adapter.config import Settings as AdapterSettings
from intake_service.config import Settings as IntakeSettings
from shared.cli import proxy_options
from shared.settings import DEV_SECRETS
from tests.helpers import own_secrets

SERVICES = [IntakeSettings, AdapterSettings]


# Production refuses hashing cheaper than OWASP's: with the costs it reads by default.
pytestmark = pytest.mark.usefixtures("production_password_hashing")


@pytest.mark.parametrize("settings", SERVICES)
def test_production_with_the_development_secrets_does_not_start(settings):
    with pytest.raises(ValidationError, match="secret of its own in production"):
        settings(environment="production")


@pytest.mark.parametrize("settings", SERVICES)
def test_production_with_secrets_of_its_own_starts(settings):
    chosen = own_secrets(settings)
    assert chosen  # the services do ship development secrets
    configured = settings(environment="production", **chosen)
    assert configured.environment == "production"


@pytest.mark.parametrize("settings", SERVICES)
def test_each_development_secret_alone_is_refused(settings):
    chosen = own_secrets(settings)
    for name in chosen:
        development = getattr(settings(environment="development"), name)
        with pytest.raises(ValidationError, match=f"{name} must be set"):
            settings(environment="production", **(chosen | {name: development}))


def test_a_development_secret_among_the_rotated_webhook_secrets_is_refused():
    chosen = own_secrets(AdapterSettings)
    with pytest.raises(ValidationError, match="crm_webhook_secrets must be set"):
        AdapterSettings(
            environment="production",
            # The same key without its prefix.
            crm_webhook_secrets=[
                SecretStr(DEV_SECRETS["crm_webhooks"].removeprefix("whsec_")),
            ],
            **chosen,
        )


@pytest.mark.parametrize(
    ("settings", "prefix"), [(IntakeSettings, "INTAKE_"), (AdapterSettings, "ADAPTER_")]
)
def test_trusted_proxies_are_none_by_default_and_read_as_a_list(
    settings, prefix, monkeypatch
):
    assert settings().trusted_proxies == []
    assert proxy_options(settings()) == {
        "proxy_headers": False,
        "forwarded_allow_ips": [],
    }
    monkeypatch.setenv(f"{prefix}TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    assert proxy_options(settings()) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["127.0.0.1/32", "10.0.0.0/8", "::1/128"],
    }
    monkeypatch.setenv(f"{prefix}TRUSTED_PROXIES", '["192.168.0.0/16"]')
    assert [str(n) for n in settings().trusted_proxies] == ["192.168.0.0/16"]


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.1/8"])
def test_a_trusted_proxy_must_be_an_address_or_a_network(value, monkeypatch):
    # Not uvicorn's "*" for everyone, nor a name: anyone could then pose as a proxy.
    monkeypatch.setenv("INTAKE_TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError, match="trusted_proxies"):
        IntakeSettings()
