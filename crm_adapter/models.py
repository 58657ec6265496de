"""Every ORM model of the adapter, imported in one place for Alembic and the tests."""

from crm_adapter.cases.models import Case, CaseAction
from crm_adapter.crm.models import Open311Token, PollCursor
from crm_adapter.db import InboxMessage, OutboxEvent
from crm_adapter.operators.models import OperatorAction, OperatorKey
from crm_adapter.routing.models import Route, Unit

__all__ = [
    "Case",
    "CaseAction",
    "InboxMessage",
    "Open311Token",
    "OperatorAction",
    "OperatorKey",
    "OutboxEvent",
    "PollCursor",
    "Route",
    "Unit",
]
