"""Resident-facing names of statuses."""

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


def status_name(status: ReportStatus, lang: str) -> str:
    return translate(STATUS_NAMES[status], lang)
