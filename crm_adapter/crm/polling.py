"""Polling a CRM for status changes, into the same path as its webhooks.

One poller per connector that can list its changes and has polling switched on (for the
REST JSON CRM, whose webhooks are the primary path, at least a daily reconciliation sweep).
Each run reads one page of changes after the stored cursor, stores each in the inbox under
the CRM's update id and applies it (`receive_change`, one transaction per change, as a webhook
would), and only then stores the new cursor: a crash in between reads the same changes again,
and the inbox keeps each once. While the CRM says more changes follow, the next page is read
at once. The cursor row also says when the poller last ran and why it last failed.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.crm.connector import CrmError, PollingConnector
from crm_adapter.crm.models import PollCursor
from crm_adapter.webhooks.service import receive_change
from shared.db import utcnow

logger = logging.getLogger(__name__)


class Poller:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        connector: PollingConnector,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._connector = connector

    @property
    def name(self) -> str:
        return self._connector.name

    async def cursor(self) -> str | None:
        async with self._sessionmaker() as session:
            row = await session.get(PollCursor, self.name)
            return row.cursor if row else None

    async def run_once(self) -> int:
        """One poll (one page); returns how many changes it read when the CRM has more,
        so that the loop goes on at once, else 0, so that it waits its interval."""
        cursor = await self.cursor()
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
            async with self._sessionmaker() as session:
                if await receive_change(
                    session,
                    connector_name=self.name,
                    change=polled.change,
                    payload=polled.raw,
                ):
                    new += 1
        await self._store(page.cursor, error=None)
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

    async def _store(self, cursor: str | None, *, error: str | None) -> None:
        async with self._sessionmaker() as session:
            row = await session.get(PollCursor, self.name, with_for_update=True)
            if row is None:
                row = PollCursor(connector=self.name)
                session.add(row)
            row.cursor = cursor
            row.last_run_at = utcnow()
            row.last_error = error
            if error is None:
                row.last_success_at = row.last_run_at
            await session.commit()
