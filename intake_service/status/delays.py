"""Telling residents that their report's way into the CRM is held up (`report.delivery_delayed.v1`).

The adapter says so when the report's case has failed to reach the CRM for longer than its
notice period, or has stopped (dead), and says it is over when the case is created or an
operator replays it. Intake keeps the newest word per report, by the adapter's `as_of`, so
an older word arriving late (a replay of a stored message) never overwrites a newer one.
A report the CRM has already (a case id, a status past `received`) takes no word of a delay:
it came late. The resident's views show the note (`intake_service.reports.delays`).
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.reports import repository
from shared.contracts import ReportDeliveryDelayedV1, ReportStatus

logger = logging.getLogger(__name__)


async def apply_delay(
    session: AsyncSession, event: ReportDeliveryDelayedV1
) -> str | None:
    """Record the report's delay (or its end); why it could not, or None."""
    report = await repository.get(session, event.report_id, for_update=True)
    if report is None:
        logger.warning(
            "delay.unknown_report", extra={"report_id": str(event.report_id)}
        )
        return "unknown report"
    extra = {"report_id": str(report.id), "delayed": event.delayed, "dead": event.dead}
    last = report.delivery_delay_as_of
    if last is not None and event.as_of < last:
        logger.info("delay.stale", extra=extra)
        return None
    in_crm = report.status != ReportStatus.RECEIVED or report.crm_case_id is not None
    if event.delayed and in_crm:
        logger.info("delay.after_crm", extra=extra)
        return None
    report.delivery_delay_as_of = event.as_of
    if event.delayed:
        # A word without `since` (from a sender that left it out) counts from its time.
        report.delivery_delayed_since = event.since or event.as_of
        report.delivery_dead = event.dead
    else:
        report.delivery_delayed_since = None
        report.delivery_dead = False
    logger.info("delay.applied", extra=extra)
    return None
