"""Deleting handled inbox rows once their senders can no longer redeliver them.

A row's ids (the CRM's update id and delivery id, intake's event id) are what recognises a
redelivery, so they are kept for the retention period (at least 7 days: Standard Webhooks
senders retry for about 3). A row never handled stays until someone handles it.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.db import InboxMessage
from shared.db import utcnow

logger = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 3600.0
"""How often the worker looks for rows past their retention."""


class InboxPurge:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        keep: dt.timedelta,
        batch_size: int = 500,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._keep = keep
        self._batch_size = batch_size

    async def run_once(self) -> int:
        """Delete one batch of handled rows received before the retention period; their
        number (a full batch makes the loop run again at once)."""
        cutoff = utcnow() - self._keep
        due = (
            select(InboxMessage.id)
            .where(
                InboxMessage.handled_at.is_not(None),
                InboxMessage.received_at < cutoff,
            )
            .order_by(InboxMessage.id)
            .limit(self._batch_size)
        )
        async with self._sessionmaker() as session:
            ids = (await session.scalars(due)).all()
            if not ids:
                return 0
            await session.execute(
                delete(InboxMessage)
                .where(InboxMessage.id.in_(ids), InboxMessage.handled_at.is_not(None))
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        logger.info("inbox.purged", extra={"rows": len(ids)})
        return len(ids) if len(ids) == self._batch_size else 0
