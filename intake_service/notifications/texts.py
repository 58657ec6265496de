"""What a notification says, in the language the resident reads it in."""

from __future__ import annotations

from intake_service.notifications.models import Notification, NotificationKind
from intake_service.reports.models import Report
from intake_service.reports.status_names import status_name
from shared.i18n import N_, pick, translate

STATUS_CHANGED = N_("Your report {number} ({category}) is now {status}.")
UNIT_NOTE = N_("Note from the unit: {note}")
FEEDBACK_REQUESTED = N_(
    "Your report {number} ({category}) is closed. Was it really fixed? Tell us in the app."
)
TITLE = N_("Report {number}")


def notification_title(report: Report, lang: str) -> str:
    """A short heading (push notifications, e-mail subjects)."""
    return translate(TITLE, lang, number=report.number)


def notification_text(notification: Notification, report: Report, lang: str) -> str:
    category = pick(report.category.names, lang)
    if notification.kind == NotificationKind.FEEDBACK_REQUESTED:
        return translate(
            FEEDBACK_REQUESTED, lang, number=report.number, category=category
        )
    text = translate(
        STATUS_CHANGED,
        lang,
        number=report.number,
        category=category,
        status=status_name(notification.status, lang),
    )
    if notification.note:
        text += " " + translate(UNIT_NOTE, lang, note=notification.note)
    return text
