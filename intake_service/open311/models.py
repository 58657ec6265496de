"""Keys of the Open311 clients allowed to file requests (made with the command line)."""

from __future__ import annotations

from intake_service.db import Base
from intake_service.operators.models import OperatorAction
from shared.operator_store import OperatorKeyMixin, OperatorStore


class Open311Key(OperatorKeyMixin, Base):
    """An Open311 client's key (`api_key`); its role is unused: a client may file requests."""

    __tablename__ = "open311_keys"


OPEN311_KEYS = OperatorStore(Open311Key, OperatorAction, kind="open311_key")
"""Open311 client keys; making and revoking one is recorded in the operators' audit log."""
