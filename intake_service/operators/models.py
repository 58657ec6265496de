"""Operator keys made with the command line, and the audit log of operators' changes."""

from __future__ import annotations

from intake_service.db import Base
from shared.operator_store import OperatorActionMixin, OperatorKeyMixin, OperatorStore


class OperatorKey(OperatorKeyMixin, Base):
    __tablename__ = "operator_keys"


class OperatorAction(OperatorActionMixin, Base):
    __tablename__ = "operator_actions"


OPERATORS = OperatorStore(OperatorKey, OperatorAction)
"""Intake's keys and audit log."""
