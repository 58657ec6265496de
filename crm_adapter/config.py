"""Settings of the CRM adapter (environment variables prefixed `ADAPTER_`)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.settings import DEV_SECRETS, ServiceSettings, secrets_of

DEV_CRM_API_KEY = DEV_SECRETS["crm_api_key"]


@dataclass(frozen=True)
class BreakerPolicy:
    """When a connector's circuit breaker opens, and for how long (`deliveries.breaker`)."""

    failures: int = 5
    open_for: dt.timedelta = dt.timedelta(seconds=60)
    max_open_for: dt.timedelta = dt.timedelta(minutes=10)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ADAPTER_", env_file=".env", extra="ignore", populate_by_name=True
    )
    database_file = "adapter.db"

    port: int = 8001
    intake_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of intake."
    )
    intake_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["adapter_to_intake"]),
        description="Standard Webhooks secret signing status events sent to intake.",
    )
    events_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["intake_to_adapter"]),
        description="Secret intake signs report events with.",
    )
    events_secret_previous: SecretStr | None = None
    crm_url: str = Field(
        default="http://127.0.0.1:8002",
        description="Base URL of the CRM's REST JSON API.",
    )
    crm_api_key: SecretStr = Field(
        default=SecretStr(DEV_CRM_API_KEY),
        description="Sent as `Authorization: Bearer …`.",
    )
    crm_timeout_seconds: float = Field(default=30.0, gt=0)
    crm_webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["crm_webhooks"]),
        description="Standard Webhooks secret the CRM signs status webhooks with.",
    )
    crm_webhook_secret_previous: SecretStr | None = None
    crm_webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default=[],
        description="More secrets the CRM may sign status webhooks with, accepted besides "
        "the two above while secrets are rotated: a comma-separated list (or a JSON list).",
    )
    inbox_retention_days: int = Field(
        default=30,
        ge=7,
        description="How long handled inbox rows (intake's events, the CRM's webhooks with "
        "their delivery and update ids) are kept to recognise redeliveries; at least 7 "
        "days, longer than any sender retries. Unhandled rows are never deleted.",
    )
    crm_poll: bool = Field(
        default=False,
        description="Also poll the REST JSON CRM's change list (`GET /api/updates`), as a "
        "backstop for lost webhooks; webhooks stay the primary path.",
    )
    crm_poll_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often the REST JSON CRM is polled when `crm_poll` is on.",
    )
    crm_reconcile_hours: float = Field(
        default=24.0,
        ge=0,
        description="With `crm_poll` off, the REST JSON CRM's change list is still read "
        "this often (and at start), to catch the changes whose webhooks never arrived "
        "(a CRM that gave up retrying, a secret rotated too early); 0 switches it off.",
    )
    open311_url: str = Field(
        default="http://127.0.0.1:8002/open311/v2",
        description="Base URL of the Open311 GeoReport v2 CRM (before `/requests.xml`).",
    )
    open311_api_key: SecretStr | None = Field(
        default=SecretStr(DEV_CRM_API_KEY),
        description="Sent as the `api_key` form field of POSTs; unset sends none.",
    )
    open311_jurisdiction_id: str | None = Field(
        default=None,
        description="Sent on every call when set (servers serving several jurisdictions).",
    )
    open311_format: Literal["xml", "json"] = Field(
        default="xml", description="`xml` (every Open311 server) or `json`."
    )
    open311_timeout_seconds: float = Field(default=30.0, gt=0)
    open311_service_codes: dict[str, str] = Field(
        default={},
        description='JSON object of category → Open311 service_code, e.g. {"pothole": "001"};'
        " a category not listed is sent as its own code.",
    )
    open311_token_polls: int = Field(
        default=5,
        ge=0,
        description="How often one attempt asks for a batch service's token before leaving "
        "it for the next attempt.",
    )
    open311_token_poll_seconds: float = Field(
        default=2.0, ge=0, description="Pause between two asks for a token."
    )
    open311_poll: bool = Field(
        default=True, description="Poll the Open311 CRM for status changes."
    )
    open311_poll_seconds: float = Field(
        default=300.0, gt=0, description="How often the Open311 CRM is polled."
    )
    open311_poll_source: Literal["auto", "updates", "requests"] = Field(
        default="auto",
        description="`updates`: the mySociety `servicerequestupdates` feed; `requests`: "
        "core `GET requests` (one change per new status or update time); `auto`: the "
        "feed when the server answers it, else requests.",
    )
    open311_poll_overlap_seconds: float = Field(
        default=7200.0,
        ge=0,
        description="Each poll reads again this far before the last one started, for "
        "changes the CRM committed late; a change read twice is stored once.",
    )
    intake_public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Intake's URL as the CRMs reach it: the base of the photo links they get.",
    )
    photo_url_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["photo_urls"]),
        description="Key (HMAC-SHA256) of the photo links; intake's INTAKE_PHOTO_URL_SECRET.",
    )
    photo_url_ttl_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        description="How long a photo link handed to a CRM works.",
    )
    case_lease_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a worker's claim on a case to create, or on a reopen or a "
        "comment to pass, lasts. It is renewed every third of it while the CRM call is "
        "under way, so the claims of a worker that died are taken up by others within "
        "this. (It used to be the time limit of an attempt too, half of it: that is "
        "`case_attempt_timeout_seconds` now.)",
    )
    case_attempt_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long one attempt to create a case, or to pass a reopen or a "
        "comment to it, may take (the CRM calls it makes, each within the connector's "
        "own timeout).",
    )

    breaker_failures: int = Field(
        default=5,
        ge=1,
        description="Consecutive failed attempts to a CRM connector that open its circuit "
        "breaker (a 401/403 opens it at once).",
    )
    breaker_open_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long an open breaker claims nothing for its connector before one "
        "probe is let through.",
    )
    breaker_max_open_seconds: float = Field(
        default=600.0,
        gt=0,
        description="The open period doubles after each failed probe, up to this.",
    )

    delay_notice_minutes: float = Field(
        default=30.0,
        gt=0,
        description="A report whose case the CRM has not taken after this many minutes of "
        "failed attempts (or of its connector's breaker holding it back) is shown to its "
        "resident as delayed; one whose case is dead, at once. The note goes when the case "
        "is created or an operator replays it.",
    )

    def delay_notice(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.delay_notice_minutes)

    def breaker_policy(self) -> BreakerPolicy:
        return BreakerPolicy(
            failures=self.breaker_failures,
            open_for=dt.timedelta(seconds=self.breaker_open_seconds),
            max_open_for=dt.timedelta(seconds=self.breaker_max_open_seconds),
        )

    routing_bounds: list[float] = Field(
        default=[16.5, 50.9, 17.5, 51.4],
        description="West, south, east and north edge (WGS 84 degrees) of the region the "
        "routing table's areas must lie in: the city with a margin. An area outside it is "
        "refused (often longitude and latitude swapped).",
    )

    @field_validator("routing_bounds")
    @classmethod
    def _bounds_enclose_something(cls, bounds: list[float]) -> list[float]:
        if len(bounds) != 4:
            raise ValueError("routing_bounds: [west, south, east, north]")
        west, south, east, north = bounds
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValueError(
                "routing_bounds: west < east and south < north, in degrees"
            )
        return bounds

    def routing_region(self) -> tuple[float, float, float, float]:
        west, south, east, north = self.routing_bounds
        return west, south, east, north

    def events_secrets(self) -> list[str]:
        return secrets_of(self.events_secret, self.events_secret_previous)

    @field_validator("crm_webhook_secrets", mode="before")
    @classmethod
    def _split_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    def accepted_crm_webhook_secrets(self) -> list[str]:
        """Every secret a CRM webhook may be signed with (current first), each once."""
        found = secrets_of(
            self.crm_webhook_secret,
            self.crm_webhook_secret_previous,
            *self.crm_webhook_secrets,
        )
        return list(dict.fromkeys(found))

    def photo_url_ttl(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.photo_url_ttl_seconds)
