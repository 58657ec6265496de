"""`python -m crm_adapter operator-key create|list|revoke`."""

from __future__ import annotations

from crm_adapter.operators.models import OPERATORS
from shared.operator_cli import operator_key_command

COMMAND = operator_key_command(OPERATORS)
