"""Every ORM model of intake, imported in one place for Alembic and the tests."""

from intake_service.accounts.models import AccessToken, Account
from intake_service.categories.models import Category, CategoryGroup, Unit
from intake_service.db import InboxMessage, OutboxEvent
from intake_service.feedback.models import Feedback
from intake_service.idempotency.models import IdempotencyRecord
from intake_service.notifications.models import Notification
from intake_service.photos.models import Photo
from intake_service.reports.models import (
    Report,
    ReportCounter,
    ReportStatusChange,
    ReportSupporter,
)

__all__ = [
    "AccessToken",
    "Account",
    "Category",
    "CategoryGroup",
    "Feedback",
    "IdempotencyRecord",
    "InboxMessage",
    "Notification",
    "OutboxEvent",
    "Photo",
    "Report",
    "ReportCounter",
    "ReportStatusChange",
    "ReportSupporter",
    "Unit",
]
