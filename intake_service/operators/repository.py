"""Queries on operator keys and the audit log; never commits."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.operators.models import OperatorAction, OperatorKey
from intake_service.reports.repository import PageKey


async def key_by_hash(session: AsyncSession, key_hash: str) -> OperatorKey | None:
    # An indexed look-up by the hash: its timing can only tell about the hash of a guess,
    # and without a preimage of SHA-256 that tells nothing about any key.
    return await session.scalar(
        select(OperatorKey).where(OperatorKey.key_hash == key_hash)
    )


async def key_by_name(
    session: AsyncSession, name: str, *, for_update: bool = False
) -> OperatorKey | None:
    query = select(OperatorKey).where(OperatorKey.name == name)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def all_keys(session: AsyncSession) -> list[OperatorKey]:
    query = select(OperatorKey).order_by(OperatorKey.created_at, OperatorKey.name)
    return list((await session.scalars(query)).all())


async def actions(
    session: AsyncSession, *, after: PageKey | None, limit: int
) -> list[OperatorAction]:
    """A page of the audit log, newest first."""
    query = select(OperatorAction)
    if after is not None:
        query = query.where(
            or_(
                OperatorAction.occurred_at < after.created_at,
                and_(
                    OperatorAction.occurred_at == after.created_at,
                    OperatorAction.id < after.id,
                ),
            )
        )
    query = query.order_by(
        OperatorAction.occurred_at.desc(), OperatorAction.id.desc()
    ).limit(limit)
    return list((await session.scalars(query)).all())
