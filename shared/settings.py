"""What both services' settings have in common: storage, ports, background loops, retries."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared import sla
from shared.cors import ANY_ORIGIN, Origin
from shared.operators import ConfiguredKey, duplicate_names
from shared.retry import Backoff


def _dev_secret(label: str) -> str:
    return (
        "whsec_" + base64.b64encode(f"mam-development-only-{label}".encode()).decode()
    )


DEV_SECRETS = {
    "intake_to_adapter": _dev_secret("intake-to-adapter"),
    "adapter_to_intake": _dev_secret("adapter-to-intake"),
    "crm_webhooks": _dev_secret("crm-webhooks"),
    "crm_api_key": "mam-development-only-crm-api-key",
    "intake_secret_key": "mam-development-only-intake-secret-key",
    "photo_urls": "mam-development-only-photo-url-key",
}
"""Secrets that make `make run` work with no configuration; refused in production."""


def async_database_url(url: str, default_sqlite_file: Path) -> str:
    """Normalise a database URL to an async driver; empty means the default SQLite file."""
    if not url:
        return f"sqlite+aiosqlite:///{default_sqlite_file}"
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


class CitySettings(BaseSettings):
    """The city's calendar, which both services (and the adapter's migrations) read alike,
    unprefixed: they compute the same due times from it."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True
    )

    time_zone: str = Field(
        default="Europe/Warsaw",
        validation_alias="MAM_TIME_ZONE",
        description="The city's time zone (IANA name, e.g. Europe/Berlin): working days "
        "are counted in it (`MAM_TIME_ZONE`, the same for both services).",
    )
    holidays: str = Field(
        default="PL",
        validation_alias="MAM_HOLIDAYS",
        description="Whose public holidays are not working days: a country's ISO 3166 "
        "code, or a subdivision of it after a dash (`DE-BY`, `US-NY`), as the `holidays` "
        "package knows them (`MAM_HOLIDAYS`, the same for both services).",
    )

    @model_validator(mode="after")
    def _known_calendar(self) -> Self:
        sla.calendar(self.time_zone, self.holidays)  # says which is unknown
        return self

    @property
    def calendar(self) -> sla.Calendar:
        return sla.calendar(self.time_zone, self.holidays)


class ServiceSettings(CitySettings):
    """Base of each service's `Settings`; subclasses set `env_prefix` and `database_file`."""

    database_file: ClassVar[str]

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(
        default=Path("var"),
        validation_alias="MAM_DATA_DIR",
        description="Where the SQLite files (and intake's photos) live by default (`MAM_DATA_DIR`).",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file in the data folder. "
        "`postgresql://…` is used through asyncpg.",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        description="PostgreSQL connections each process keeps open for reuse; those "
        "opened beyond them in a burst (the pool overflow) are closed after it, and "
        "connecting again costs.",
    )
    database_pool_overflow: int = Field(
        default=10,
        ge=0,
        description="PostgreSQL connections a process may open beyond its pool in a "
        "burst; further requests wait for a free connection.",
    )
    host: str = "127.0.0.1"
    port: int
    public_url: str | None = Field(
        default=None,
        description="The service's address as its clients reach it (behind a proxy, the "
        "proxy's): the `servers` entry of the API documents. Unset: http://HOST:PORT.",
    )
    api_contact_name: str = Field(
        default="MAM",
        description="Who answers questions about this API (the city's IT team): the "
        "`info.contact` of the API documents.",
    )
    api_contact_email: str | None = Field(
        default=None, description="Their e-mail address, in `info.contact`."
    )
    api_contact_url: str | None = Field(
        default=None, description="Their web page, in `info.contact`."
    )
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default=[],
        description="The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are "
        "believed: IP addresses or networks (CIDR), comma-separated (or a JSON list). "
        "Empty (the default), none is: the client's address is the one that connected, "
        "so no client can choose the address it is counted under.",
    )
    cors_origins: Annotated[list[Origin], NoDecode] = Field(
        default=[],
        description="The web apps on other origins that may call this API from a browser: "
        "origins (`https://app.example.org`: scheme, host and a port other than the "
        "default, no path), comma-separated (or a JSON list). Empty (the default): no CORS "
        "headers, so only pages of the service's own origin can read its answers. `*` (any "
        "origin) is refused in production.",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection that has not sent a request's whole head (line and "
        "headers) this long after opening, or after starting the request, is closed.",
    )
    body_idle_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A request body that sends nothing for this long gets 408.",
    )
    body_grace_seconds: float = Field(
        default=30.0,
        ge=0,
        description="After this long a request body must keep up the least average rate "
        "below, or it gets 408.",
    )
    body_min_bytes_per_second: float = Field(
        default=4096.0,
        ge=0,
        description="The least average rate of a request body after its grace time "
        "(4 KiB/s is below a weak 2G link; a client sending slower holds a connection "
        "for nothing).",
    )
    max_uploads: int = Field(
        default=32,
        ge=1,
        description="Large request bodies (1 MiB or more, or of undeclared size) being "
        "received at once per process; one more gets 503 with Retry-After, unread.",
    )
    run_worker: bool = Field(
        default=True,
        description="Run the background loops inside the API process (the embedded default); "
        "set false when `python -m <service> worker` processes run them.",
    )
    shutdown_grace_seconds: float = Field(
        default=20.0,
        ge=0,
        description="On SIGTERM (or the API's shutdown), how long the background loops may "
        "take to finish the steps under way before they are cancelled; what a cancelled "
        "step had claimed comes free when its lease ends. Keep it under the supervisor's "
        "stop timeout (docker-compose.yml gives 30 s).",
    )
    poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often loops look for work nobody woke them for.",
    )
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_cap_seconds: float = Field(default=1800.0, gt=0)
    retry_budget_hours: float = Field(default=72.0, gt=0)
    relay_lease_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long the outbox relay's claim on an event lasts. It is renewed "
        "every third of it while the send is under way, so the events a relay that died "
        "was sending go out again within this.",
    )
    relay_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long one send of an event to the other service may take.",
    )
    relay_probe_seconds: float = Field(
        default=1.0,
        gt=0,
        description="While the other service cannot be reached (or says it is "
        "unavailable), one waiting event is tried this often, whatever its backoff; the "
        "first one it takes makes the events that waited for it due at once.",
    )
    log_json: bool = False
    log_level: str = "INFO"
    operator_keys: list[ConfiguredKey] = Field(
        default=[],
        description="Operator keys given here rather than made with `python -m <service> "
        'operator-key create`: a JSON list of {"name", "role" (read or manage), "sha256" (hex '
        "SHA-256 of the key)}; the keys themselves are never written here.",
    )

    @field_validator("trusted_proxies", "cors_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _unique_operator_names(self) -> Self:
        if repeated := duplicate_names(self.operator_keys):
            raise ValueError(
                f"operator_keys: each name once, repeated: {', '.join(sorted(repeated))}"
            )
        return self

    @model_validator(mode="after")
    def _named_origins_in_production(self) -> Self:
        if self.environment == "production" and ANY_ORIGIN in self.cors_origins:
            raise ValueError(
                "cors_origins: `*` (any origin) is refused in production; name the "
                "origins of the city's web apps"
            )
        return self

    @model_validator(mode="after")
    def _normalise_database_url(self) -> Self:
        self.database_url = async_database_url(
            self.database_url, self.data_dir / self.database_file
        )
        return self

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Self:
        if self.environment == "production":
            # A webhook secret is the same key with or without its `whsec_` prefix.
            development = {s.removeprefix("whsec_") for s in DEV_SECRETS.values()}
            for name, value in self:
                secrets = value if isinstance(value, list | tuple) else [value]
                if any(
                    isinstance(secret, SecretStr)
                    and secret.get_secret_value().removeprefix("whsec_") in development
                    for secret in secrets
                ):
                    raise ValueError(
                        f"{name} must be set to a secret of its own in production"
                    )
        return self

    @property
    def database_is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def backoff(self) -> Backoff:
        return Backoff(
            base=self.retry_base_seconds,
            cap=self.retry_cap_seconds,
            budget=dt.timedelta(hours=self.retry_budget_hours),
        )

    def base_url(self) -> str:
        """`public_url`, or where the service listens."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def service_name(self) -> str:
        """The service's name in traces (`mam-intake`, `mam-adapter`: from its prefix),
        unless `OTEL_SERVICE_NAME` gives another."""
        prefix = str(self.model_config.get("env_prefix", ""))
        return "mam-" + prefix.removesuffix("_").lower()

    def api_contact(self) -> dict[str, str]:
        """The API documents' `info.contact`: the members that are set."""
        given = {
            "name": self.api_contact_name,
            "email": self.api_contact_email,
            "url": self.api_contact_url,
        }
        return {key: value for key, value in given.items() if value}


def secrets_of(*secrets: SecretStr | None) -> list[str]:
    """The values of the secrets that are set (current first, then the one being retired)."""
    return [s.get_secret_value() for s in secrets if s is not None]
