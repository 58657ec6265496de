"""Settings of the CRM simulator (environment variables prefixed `CRM_SIM_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import DEV_SECRETS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CRM_SIM_", env_file=".env", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = 8002
    api_key: SecretStr | None = Field(
        default=SecretStr(DEV_SECRETS["crm_api_key"]),
        description="Bearer key callers of /api must send; empty to accept anyone.",
    )
    webhook_url: str = Field(
        default="http://127.0.0.1:8001/webhooks/crm",
        description="Where status changes are pushed (the adapter's webhook endpoint).",
    )
    webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRETS["crm_webhooks"]),
        description="Standard Webhooks secret the webhooks are signed with.",
    )
    webhook_attempts: int = Field(default=8, ge=1)
    open311_batch: bool = Field(
        default=False,
        description="Open311 requests are taken as a batch service would: POST answers a "
        "token, resolved to the request id after OPEN311_TOKEN_DELAY_SECONDS "
        "(switchable at runtime: PUT /open311/simulator).",
    )
    open311_token_delay_seconds: float = Field(default=1.0, ge=0)
    open311_jurisdiction_id: str | None = Field(
        default=None,
        description="The one jurisdiction served; unset accepts any (or none).",
    )
    idempotent_creates: bool = Field(
        default=False,
        description="Return the existing case for a create with a known external_ref "
        "(switchable at run time through /_sim/faults); false: make a second case.",
    )
    log_json: bool = False
    log_level: str = "INFO"
