"""Telling intake that a report's case is held up on its way into the CRM, and when it moves.

A case's creation is held up when its attempts have been failing for longer than the notice
period (`Case.failing_since`), when its connector's breaker has kept it from being tried for
that long, or when it is dead. An open breaker makes no attempts, so the check runs by the
clock in a loop of its own rather than on an attempt's outcome (a case that dies wakes it).
Each state is told once: it is recorded on the case (`Case.delay_told`) in the transaction
that writes the event, under the row's lock, so neither a restart nor a second worker tells
it twice. The end of it (`delayed` false) is told when the case is created or an operator
replays it; if it is held up again, that is told anew after the notice period.

The events go through the outbox to intake under the report's id, in order with its status
changes, and intake shows the resident a note while its report is still `received`.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.cases.models import Case, DelayTold
from crm_adapter.db import OutboxEvent
from crm_adapter.deliveries import queue
from shared.contracts import Envelope, ReportDeliveryDelayedV1
from shared.db import utcnow
from shared.outbox import add_event

logger = logging.getLogger(__name__)

DELAYS = "delays"
"""Name of the wake-up of the loop telling delays."""

MOST_CHECK_SECONDS = 60.0
"""The longest the loop waits between two looks: a delay is told within a minute of its
notice period ending."""


def check_every(notice_after: dt.timedelta, poll_seconds: float) -> float:
    """How often the loop looks: a tenth of the notice period, within the loops' polling
    interval and `MOST_CHECK_SECONDS`."""
    return min(MOST_CHECK_SECONDS, max(poll_seconds, notice_after.total_seconds() / 10))


def _emit(
    session: AsyncSession,
    case: Case,
    *,
    delayed: bool,
    dead: bool,
    since: dt.datetime | None,
    now: dt.datetime,
) -> None:
    event = ReportDeliveryDelayedV1(
        report_id=case.report_id, delayed=delayed, dead=dead, since=since, as_of=now
    )
    add_event(
        session,
        OutboxEvent,
        Envelope(occurred_at=now, source="adapter", event=event),
        aggregate_id=case.report_id,
    )


def tell_held_up(
    session: AsyncSession,
    case: Case,
    *,
    dead: bool,
    since: dt.datetime,
    now: dt.datetime,
) -> None:
    """Tell intake the case is held up (dead, or failing since `since`), and record it."""
    _emit(session, case, delayed=True, dead=dead, since=since, now=now)
    case.delay_told = DelayTold.DEAD if dead else DelayTold.DELAYED
    logger.warning(
        "case.delay_told",
        extra={
            "report_id": str(case.report_id),
            "dead": dead,
            "since": since.isoformat(),
        },
    )


def tell_moving(session: AsyncSession, case: Case, *, now: dt.datetime) -> None:
    """The case is on its way again (created, or replayed): its failures are forgotten and,
    if intake was told it was held up, intake is told that is over."""
    case.failing_since = None
    if case.delay_told is None:
        return
    _emit(session, case, delayed=False, dead=False, since=None, now=now)
    case.delay_told = None
    logger.info("case.delay_over", extra={"report_id": str(case.report_id)})


class DelayTeller:
    """A step of the loop: tell intake of the cases newly held up."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        notice_after: dt.timedelta,
        batch_size: int = 50,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._notice_after = notice_after
        self.batch_size = batch_size
        """Most cases one step tells of."""

    async def run_once(self) -> int:
        now = utcnow()
        async with self._sessionmaker() as session:
            found = await queue.held_up(
                session, now=now, notice_after=self._notice_after, limit=self.batch_size
            )
            for held in found:
                tell_held_up(
                    session, held.case, dead=held.dead, since=held.since, now=now
                )
            await session.commit()
        return len(found)
