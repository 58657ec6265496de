"""Operator keys of intake: those in the settings and those made with the command line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.operators import audit, repository
from intake_service.operators.models import OperatorKey
from shared.db import utcnow
from shared.operators import (
    ConfiguredKey,
    Operator,
    Role,
    find_configured,
    generate_key,
    hash_key,
)

CLI_OPERATOR = Operator(name="cli", role=Role.MANAGE)
"""Who the audit log names for changes made on the command line."""

TOUCH_EVERY = dt.timedelta(minutes=1)
"""`last_used_at` is brought up to date at most this often: not a write per request."""


class KeyNameTaken(Exception):
    pass


class KeyNotFound(Exception):
    pass


class KeyInSettings(Exception):
    pass


@dataclass(frozen=True)
class IntakeOperatorKeys:
    """The keys in the settings, then those in the database (`shared.operators.OperatorKeys`)."""

    session: AsyncSession
    configured: Sequence[ConfiguredKey]

    async def find(self, key_hash: str) -> Operator | None:
        if (key := find_configured(self.configured, key_hash)) is not None:
            return Operator(name=key.name, role=key.role)
        row = await repository.key_by_hash(self.session, key_hash)
        if row is None or row.revoked_at is not None:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            row.last_used_at = now
            # A small transaction of its own, ended before the request's use case begins.
            await self.session.commit()
        return Operator(name=row.name, role=Role(row.role))


async def create_key(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    configured: Sequence[ConfiguredKey],
) -> str:
    """Store a new key under `name` and return it: the only time it is ever seen."""
    if any(key.name == name for key in configured):
        raise KeyNameTaken(name)
    if await repository.key_by_name(session, name) is not None:
        raise KeyNameTaken(name)
    key = generate_key()
    session.add(
        OperatorKey(
            name=name, role=role.value, key_hash=hash_key(key), created_at=utcnow()
        )
    )
    action = audit.record(
        session,
        CLI_OPERATOR,
        action="operator_key.create",
        target_type="operator_key",
        target_id=name,
        details={"role": role.value},
    )
    try:
        await audit.commit(session, action)
    except IntegrityError as exc:  # the same name made at the same moment
        await session.rollback()
        raise KeyNameTaken(name) from exc
    return key


@dataclass(frozen=True)
class KeyInfo:
    name: str
    role: Role
    source: str
    created_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


async def list_keys(
    session: AsyncSession, *, configured: Sequence[ConfiguredKey]
) -> list[KeyInfo]:
    """Every key: those from the settings first, then the database's (revoked ones too)."""
    keys = [KeyInfo(name=k.name, role=k.role, source="settings") for k in configured]
    keys += [
        KeyInfo(
            name=row.name,
            role=Role(row.role),
            source="database",
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )
        for row in await repository.all_keys(session)
    ]
    return keys


async def revoke_key(
    session: AsyncSession, *, name: str, configured: Sequence[ConfiguredKey]
) -> bool:
    """Revoke the key named `name` at once; False when it was revoked before."""
    if any(key.name == name for key in configured):
        raise KeyInSettings(name)
    row = await repository.key_by_name(session, name, for_update=True)
    if row is None:
        raise KeyNotFound(name)
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    action = audit.record(
        session,
        CLI_OPERATOR,
        action="operator_key.revoke",
        target_type="operator_key",
        target_id=name,
    )
    await audit.commit(session, action)
    return True
