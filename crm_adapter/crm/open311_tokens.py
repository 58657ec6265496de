"""Where the Open311 connector keeps a batch service's token until the request has its id:
stored before it is polled, so a later attempt asks for the token instead of sending the
request again."""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.crm.models import Open311Token
from shared.db import utcnow


class TokenStore(Protocol):
    """Where a batch service's token waits, by report id, until it resolves."""

    async def get(self, report_id: uuid.UUID) -> str | None: ...

    async def put(self, report_id: uuid.UUID, token: str) -> None: ...

    async def drop(self, report_id: uuid.UUID) -> None: ...


class DatabaseTokens:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def get(self, report_id: uuid.UUID) -> str | None:
        async with self._sessionmaker() as session:
            row = await session.get(Open311Token, report_id)
            return row.token if row else None

    async def put(self, report_id: uuid.UUID, token: str) -> None:
        async with self._sessionmaker() as session:
            row = await session.get(Open311Token, report_id)
            if row is None:
                session.add(
                    Open311Token(report_id=report_id, token=token, created_at=utcnow())
                )
            else:
                row.token = token
            await session.commit()

    async def drop(self, report_id: uuid.UUID) -> None:
        async with self._sessionmaker() as session:
            await session.execute(
                delete(Open311Token).where(Open311Token.report_id == report_id)
            )
            await session.commit()
