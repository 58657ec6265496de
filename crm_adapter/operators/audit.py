"""Recording what operators change: a row in the change's own transaction, then a log line.

row = audit.record(session, operator, action="routing.replace", target_type="routing",
                   target_id=version, details={"rules": 14})
await audit.commit(session, row)
"""

from __future__ import annotations

from crm_adapter.operators.models import OPERATORS
from shared.operator_store import commit

record = OPERATORS.record
"""Add the audit row to the session; `commit` commits it with the change it describes."""

__all__ = ["commit", "record"]
