"""Resident-facing names of statuses and the texts of status notifications."""

from __future__ import annotations

from collections.abc import Mapping

from shared.contracts import ReportStatus
from shared.i18n import N_, translate

STATUS_NAMES: Mapping[ReportStatus, str] = {
    # TRANSLATORS: a report's status, as in "Your report ... is now {status}."
    ReportStatus.RECEIVED: N_("received"),
    ReportStatus.SUBMITTED: N_("passed to the responsible unit"),
    ReportStatus.IN_PROGRESS: N_("in progress"),
    ReportStatus.RESOLVED: N_("resolved"),
    ReportStatus.REJECTED: N_("rejected"),
    ReportStatus.REOPENED: N_("reopened"),
}

STATUS_CHANGED = N_("Your report {number} ({category}) is now {status}.")

UNIT_NOTE = N_("Note from the unit: {note}")


def status_name(status: ReportStatus, lang: str) -> str:
    return translate(STATUS_NAMES[status], lang)


def status_changed_text(
    *, number: str, category: str, status: ReportStatus, note: str | None, lang: str
) -> str:
    text = translate(
        STATUS_CHANGED,
        lang,
        number=number,
        category=category,
        status=status_name(status, lang),
    )
    if note:
        text += " " + translate(UNIT_NOTE, lang, note=note)
    return text
