"""A request's `media_url`s written with its report, in the transaction that files it.

The report goes through the resident API's own filing (`reports.filing.submit_report`), which
writes the report and its hand-over event (`report.submitted.v1`) and commits. The links must
be in that same commit: a report never exists without the links it came with, and its
hand-over never leaves before it is held back for them. So the filing is given
`links_with_report`, which it calls before its commit: a pending row per link (for the
fetch loop, woken by the commit), and the hand-over's `next_attempt_at` moved to `wait` from
now.

Until then the relay leaves the hand-over alone; the fetch loop makes it due as soon as the
photos are in or given up (`media_repository.hand_over`). When the host is slow or gone, the
relay sends it at the end of the wait, without the photos still missing: the city never
waits for a dead photo host, and the report reaches the CRM in every case.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db import OutboxEvent
from intake_service.open311 import media_repository
from intake_service.open311.models import Open311Media
from intake_service.reports.filing import WithReport
from shared.db import table_of, utcnow
from shared.outbox import PENDING
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)

MEDIA = "open311.media"
"""Name of the fetch loop's wake-up (see `shared.wakeup`)."""

MAX_URL_LENGTH = 2048
"""The longest `media_url` taken: a photo's address is far shorter."""


def links_with_report(urls: Sequence[str], *, wait: float) -> WithReport | None:
    """What files `urls` with the report in its transaction: a pending row per link (the
    fetch loop is woken by the commit) and the hand-over held `wait` seconds. None without
    links."""
    if not urls:
        return None
    held = dt.timedelta(seconds=wait)

    async def write(session: AsyncSession, report_id: uuid.UUID) -> None:
        now = utcnow()
        await session.execute(
            insert(table_of(Open311Media)),
            media_repository.new_rows(report_id, urls, now),
        )
        if held > dt.timedelta(0):
            await session.execute(
                update(OutboxEvent)
                .where(
                    OutboxEvent.aggregate_id == report_id,
                    OutboxEvent.event_type == media_repository.HANDOVER,
                    OutboxEvent.status == PENDING,
                    OutboxEvent.attempts == 0,
                )
                .values(next_attempt_at=now + held)
            )
        wake_after_commit(session, MEDIA)

    return write
