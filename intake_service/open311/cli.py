"""`python -m intake_service open311-key create|list|revoke`: Open311 clients' `api_key`s."""

from __future__ import annotations

from intake_service.open311.models import OPEN311_KEYS
from shared.operator_cli import operator_key_command

COMMAND = operator_key_command(
    OPEN311_KEYS,
    name="open311-key",
    help="make, list and revoke the api_keys of Open311 clients",
    label="Open311 key",
    settings_field="open311_api_keys",
    roles=False,
)
