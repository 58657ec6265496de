"""Resident-facing names of statuses and the texts of status notifications."""

from __future__ import annotations

from collections.abc import Mapping

from shared.contracts import ReportStatus
from shared.i18n import Localized, pick

STATUS_NAMES: Mapping[ReportStatus, Localized] = {
    ReportStatus.RECEIVED: {"pl": "przyjęte", "en": "received", "de": "eingegangen"},
    ReportStatus.SUBMITTED: {
        "pl": "przekazane do jednostki",
        "en": "passed to the responsible unit",
        "de": "an die zuständige Stelle übergeben",
    },
    ReportStatus.IN_PROGRESS: {
        "pl": "w realizacji",
        "en": "in progress",
        "de": "in Bearbeitung",
    },
    ReportStatus.RESOLVED: {"pl": "załatwione", "en": "resolved", "de": "erledigt"},
    ReportStatus.REJECTED: {"pl": "odrzucone", "en": "rejected", "de": "abgelehnt"},
    ReportStatus.REOPENED: {
        "pl": "ponownie otwarte",
        "en": "reopened",
        "de": "wieder eröffnet",
    },
}

STATUS_CHANGED: Localized = {
    "pl": "Zgłoszenie {number} ({category}) ma nowy status: {status}.",
    "en": "Your report {number} ({category}) is now {status}.",
    "de": "Ihre Meldung {number} ({category}) hat einen neuen Status: {status}.",
}

UNIT_NOTE: Localized = {
    "pl": "Informacja od jednostki: {note}",
    "en": "Note from the unit: {note}",
    "de": "Hinweis der zuständigen Stelle: {note}",
}


def status_name(status: ReportStatus, lang: str) -> str:
    return pick(STATUS_NAMES[status], lang)


def status_changed_text(
    *, number: str, category: str, status: ReportStatus, note: str | None, lang: str
) -> str:
    text = pick(STATUS_CHANGED, lang).format(
        number=number, category=category, status=status_name(status, lang)
    )
    if note:
        text += " " + pick(UNIT_NOTE, lang).format(note=note)
    return text
