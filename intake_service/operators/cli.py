"""`python -m intake_service operator-key create|list|revoke`."""

from __future__ import annotations

from intake_service.operators.models import OPERATORS
from shared.operator_cli import operator_key_command

COMMAND = operator_key_command(OPERATORS)
