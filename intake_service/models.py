"""Every ORM model of intake, imported in one place for Alembic and the tests."""

from intake_service.accounts.models import (
    AccessToken,
    Account,
    Device,
    EmailCode,
    TokenFamily,
)
from intake_service.categories.models import Category, CategoryGroup, Unit
from intake_service.db import InboxMessage, OutboxEvent
from intake_service.feedback.models import Feedback
from intake_service.ideas.models import Idea
from intake_service.idempotency.models import IdempotencyRecord
from intake_service.moderation.models import AbuseFlag, ModerationEvent
from intake_service.notifications.models import Notification, NotificationDelivery
from intake_service.open311.models import Open311Key, Open311Media, Open311Update
from intake_service.operators.models import OperatorAction, OperatorKey
from intake_service.photos.models import Photo
from intake_service.reports.models import (
    Report,
    ReportCounter,
    ReportStatusChange,
    ReportSupporter,
)
from intake_service.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyParticipant,
    SurveyQuestion,
    SurveyResponse,
)
from intake_service.throttling.models import AttemptCounter

__all__ = [
    "AbuseFlag",
    "AccessToken",
    "Account",
    "AttemptCounter",
    "Category",
    "CategoryGroup",
    "EmailCode",
    "Feedback",
    "IdempotencyRecord",
    "Idea",
    "InboxMessage",
    "ModerationEvent",
    "Device",
    "Notification",
    "NotificationDelivery",
    "Open311Key",
    "Open311Media",
    "Open311Update",
    "OperatorAction",
    "OperatorKey",
    "OutboxEvent",
    "Photo",
    "Report",
    "ReportCounter",
    "ReportStatusChange",
    "ReportSupporter",
    "Survey",
    "SurveyAnswer",
    "SurveyParticipant",
    "SurveyQuestion",
    "SurveyResponse",
    "TokenFamily",
    "Unit",
]
