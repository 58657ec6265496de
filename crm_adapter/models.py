"""Every ORM model of the adapter, imported in one place for Alembic and the tests."""

from crm_adapter.cases.models import Case, CaseAction
from crm_adapter.crm.models import Open311Token, PollCursor, StatusMapping
from crm_adapter.db import InboxMessage, OutboxEvent
from crm_adapter.deliveries.models import ConnectorBreaker, DeliveryAttempt
from crm_adapter.operators.models import OperatorAction, OperatorKey
from crm_adapter.routing.models import RoutingVersion, Rule, Unit, VersionUnit
from crm_adapter.statuses.models import HeldChange

__all__ = [
    "Case",
    "CaseAction",
    "ConnectorBreaker",
    "DeliveryAttempt",
    "HeldChange",
    "InboxMessage",
    "Open311Token",
    "OperatorAction",
    "OperatorKey",
    "OutboxEvent",
    "PollCursor",
    "RoutingVersion",
    "Rule",
    "StatusMapping",
    "Unit",
    "VersionUnit",
]
