"""Polling a CRM for status changes, into the same path as its webhooks.

One poller per connector that can list its changes and has polling switched on (for the
REST JSON CRM, whose webhooks are the primary path, at least a daily reconciliation sweep).
Each run reads one page of changes after the stored cursor, stores each in the inbox under
the CRM's update id and applies it (`receive_change`, one transaction per change, as a webhook
would; the changes of cases that are not ours are passed over, and so, with a warning in the
log, is a change with a field longer than its column), and only then stores the new cursor:
a crash in between reads the same changes again, and the inbox keeps each once. While the CRM
says more changes follow, the next page is read at once. The cursor row also says when the
poller last ran and why it last failed.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.cases import repository as cases
from crm_adapter.crm.connector import CrmError, PollingConnector, too_long
from crm_adapter.crm.models import PollCursor
from crm_adapter.statuses.apply import is_ours
from crm_adapter.statuses.receive import receive_change
from shared import tracing
from shared.db import utcnow

logger = logging.getLogger(__name__)


class Poller:
    """Reads one connector's changes.

    With `every`, a poll is due only when the last one that read to the end of the CRM's
    changes is at least that old (the daily reconciliation sweep): the loop may wake the
    poller more often, so that a sweep that failed, or stopped half-way with its process,
    goes on soon rather than a day later, from whichever replica wakes first. A connector
    no case has been routed to is not polled: nothing of ours can be there.
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        connector: PollingConnector,
        every: dt.timedelta | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._connector = connector
        self._every = every

    @property
    def name(self) -> str:
        return self._connector.name

    async def _due(self) -> tuple[bool, str | None]:
        """Whether to poll now, and the cursor to go on from."""
        async with self._sessionmaker() as session:
            row = await session.get(PollCursor, self.name)
            in_use = await cases.any_case_at(session, self.name)
        if not in_use:
            return False, None
        cursor = row.cursor if row else None
        if self._every is None:
            return True, cursor
        last = row.last_success_at if row else None
        return last is None or utcnow() - last >= self._every, cursor

    async def run_once(self) -> int:
        """One poll (one page) when one is due; returns how many changes it read when the
        CRM has more, so that the loop goes on at once, else 0, so that it waits its
        interval."""
        due, cursor = await self._due()
        if not due:
            return 0
        # Each poll is a trace of its own; a change it applies joins its report's trace,
        # linked to the poll's (`crm_adapter.statuses.apply`).
        with tracing.new_trace("crm.poll", attributes={"mam.connector": self.name}):
            return await self._poll(cursor)

    async def _poll(self, cursor: str | None) -> int:
        try:
            page = await self._connector.poll_changes(cursor)
        except CrmError as exc:
            logger.warning(
                "poll.failed", extra={"connector": self.name, "error": str(exc)}
            )
            await self._store(cursor, error=str(exc)[:2048])
            return 0
        new = 0
        for polled in page.changes:
            if (reason := too_long(polled.change)) is not None:
                # PostgreSQL would refuse to store it at every poll, and the cursor would
                # never move past it: the changes after it count more than this one.
                logger.warning(
                    "poll.unreadable_change",
                    extra={
                        "connector": self.name,
                        "update_id": polled.change.update_id[:100],
                        "reason": reason,
                    },
                )
                continue
            async with self._sessionmaker() as session:
                if not await is_ours(session, polled.change, self.name):
                    continue  # a CRM's list holds the cases it got elsewhere too
                if await receive_change(
                    session,
                    connector_name=self.name,
                    change=polled.change,
                    payload=polled.raw,
                ):
                    new += 1
        await self._store(page.cursor, error=None, caught_up=not page.more)
        logger.info(
            "poll.done",
            extra={
                "connector": self.name,
                "read": len(page.changes),
                "new": new,
                "more": page.more,
            },
        )
        return max(len(page.changes), 1) if page.more else 0

    async def _store(
        self, cursor: str | None, *, error: str | None, caught_up: bool = False
    ) -> None:
        """Store the cursor; `caught_up`: this poll read to the end of the CRM's changes."""
        async with self._sessionmaker() as session:
            row = await session.get(PollCursor, self.name, with_for_update=True)
            if row is None:
                row = PollCursor(connector=self.name)
                session.add(row)
            row.cursor = cursor
            row.last_run_at = utcnow()
            row.last_error = error
            if caught_up:
                row.last_success_at = row.last_run_at
            await session.commit()
