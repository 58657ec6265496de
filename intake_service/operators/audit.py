"""Recording what operators change: a row in the change's own transaction, then a log line."""

from __future__ import annotations

from intake_service.operators.models import OPERATORS
from shared.operator_store import commit

record = OPERATORS.record
"""Add the audit row to the session; `commit` commits it with the change it describes."""

__all__ = ["commit", "record"]
