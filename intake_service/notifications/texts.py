"""What a notification says, in the language the resident reads it in."""

from __future__ import annotations

from collections.abc import Mapping

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

MODERATED: Mapping[NotificationKind, str] = {
    NotificationKind.DESCRIPTION_HIDDEN: N_(
        "The city's moderators hid the description of your report {number} "
        "({category}): others no longer see it, you still do."
    ),
    NotificationKind.DESCRIPTION_RESTORED: N_(
        "The description of your report {number} ({category}) is shown to everyone "
        "again."
    ),
    NotificationKind.PHOTO_HIDDEN: N_(
        "The city's moderators hid a photo of your report {number} ({category}): "
        "nobody sees it any longer."
    ),
    NotificationKind.PHOTO_RESTORED: N_(
        "A photo of your report {number} ({category}) is shown to everyone again."
    ),
}
MODERATION_REASON = N_("Reason: {reason}.")
MODERATION_REASONS: Mapping[str, str] = {
    "personal_data": N_("personal data"),
    "offensive": N_("offensive content"),
    "face_or_plate": N_("a face or a number plate"),
    "not_relevant": N_("not related to the problem reported"),
    "spam": N_("advertising or spam"),
    "other": N_("other"),
}
"""The names of moderation reasons by code; a hiding's notification says the reason by
its name (`other` is not said)."""


def notification_title(report: Report, lang: str) -> str:
    """A short heading (push notifications, e-mail subjects)."""
    return translate(TITLE, lang, number=report.number)


def notification_text(notification: Notification, report: Report, lang: str) -> str:
    category = pick(report.category.names, lang)
    if (moderated := MODERATED.get(notification.kind)) is not None:
        text = translate(moderated, lang, number=report.number, category=category)
        code = notification.note or "other"
        if code in MODERATION_REASONS and code != "other":
            reason = translate(MODERATION_REASONS[code], lang)
            text += " " + translate(MODERATION_REASON, lang, reason=reason)
        return text
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
