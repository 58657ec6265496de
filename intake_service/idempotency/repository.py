"""Queries on idempotency records; never commits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Row, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.idempotency.models import IdempotencyRecord

_ANSWER = select(
    IdempotencyRecord.request_fingerprint,
    IdempotencyRecord.response_status,
    IdempotencyRecord.response_body,
    IdempotencyRecord.expires_at,
).where(
    IdempotencyRecord.scope == bindparam("scope"),
    IdempotencyRecord.key == bindparam("key"),
)


async def answer(
    session: AsyncSession, scope: str, key: str
) -> Row[str, int, str, dt.datetime] | None:
    """The fingerprint, status, body and expiry of the answer recorded under the key."""
    where = {"scope": scope, "key": key}
    return (await session.execute(_ANSWER, where)).one_or_none()


async def delete_record(session: AsyncSession, scope: str, key: str) -> None:
    """The record of the key, with the answer it kept."""
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )
