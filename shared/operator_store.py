"""Where a service keeps its operator keys and the audit log of operators' changes.

Each service declares its two tables with the mixins below and one `OperatorStore` over them;
keys given in the settings (`operator_keys`) are looked up first, then those made with the
command line (`python -m <service> operator-key create`), kept as SHA-256 only.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Index, String, Uuid, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.db import UtcDateTime, utcnow
from shared.operators import (
    KEY_PREFIX,
    ConfiguredKey,
    Operator,
    Role,
    find_configured,
    generate_key,
    hash_key,
)
from shared.pagination import PageKey, decode_cursor, encode_cursor

logger = logging.getLogger(__name__)

CLI_OPERATOR = Operator(name="cli", role=Role.MANAGE)
"""Who the audit log names for changes made on the command line."""

TOUCH_EVERY = dt.timedelta(minutes=1)
"""`last_used_at` is brought up to date at most this often: not a write per request."""


class OperatorKeyMixin:
    """A key's name, role and SHA-256; the key itself was shown once and never stored."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Never reused, not even after a revocation, so the audit log names one key.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class OperatorActionMixin:
    """One change an operator made, written in the same transaction as the change."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # The key's name (`cli` for the command line): who did it.
    operator_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    # What changed, in a few non-personal words (field names, a new status).
    details: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    request_id: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Index]:
        # The log is read newest first in keyset pages.
        table = getattr(cls, "__tablename__", "operator_actions")
        return (Index(f"ix_{table}_occurred_at_id", "occurred_at", "id"),)


class KeyNameTaken(Exception):
    pass


class KeyNotFound(Exception):
    pass


class KeyInSettings(Exception):
    pass


@dataclass(frozen=True)
class KeyInfo:
    name: str
    role: Role
    source: str
    created_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True)
class StoredOperatorKeys:
    """The keys in the settings, then those in the database (`shared.operators.OperatorKeys`)."""

    store: OperatorStore
    session: AsyncSession
    configured: Sequence[ConfiguredKey]

    async def find(self, key_hash: str) -> Operator | None:
        if (key := find_configured(self.configured, key_hash)) is not None:
            return Operator(name=key.name, role=key.role)
        model = self.store.key_model
        # An indexed look-up by the hash: its timing can only tell about the hash of a guess,
        # and without a preimage of SHA-256 that tells nothing about any key.
        row = await self.session.scalar(select(model).where(model.key_hash == key_hash))
        if row is None or row.revoked_at is not None:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            row.last_used_at = now
            # A small transaction of its own, ended before the request's use case begins.
            await self.session.commit()
        return Operator(name=row.name, role=Role(row.role))


async def commit(session: AsyncSession, *actions: OperatorActionMixin) -> None:
    """Commit the change and its audit rows, then log each action (only once it happened)."""
    await session.commit()
    for action in actions:
        # Who and what, by name and id: never a resident's data or an operator's free text.
        logger.info(
            "operator.action",
            extra={
                "operator": action.operator_name,
                "action": action.action,
                "target_type": action.target_type,
                "target_id": action.target_id,
                "request_id": action.request_id,
            },
        )


@dataclass(frozen=True)
class OperatorStore:
    """A service's operator keys and audit log, over its two tables."""

    key_model: type[OperatorKeyMixin]
    action_model: type[OperatorActionMixin]
    kind: str = "operator_key"
    """What the audit log calls these keys (`operator_key.create`, ...)."""
    key_prefix: str = KEY_PREFIX
    """What the keys made here start with (`mam_op_`; Open311 clients' `mam_o311_`)."""

    def keys(
        self, session: AsyncSession, configured: Sequence[ConfiguredKey]
    ) -> StoredOperatorKeys:
        return StoredOperatorKeys(self, session, configured)

    def record(
        self,
        session: AsyncSession,
        operator: Operator,
        *,
        action: str,
        target_type: str,
        target_id: object | None = None,
        details: dict[str, Any] | None = None,
    ) -> OperatorActionMixin:
        """Add the audit row to the session; it is committed with the change it describes."""
        row = self.action_model(  # type: ignore[call-arg]  # a declarative class
            operator_name=operator.name,
            action=action,
            target_type=target_type,
            # The column holds 100 characters: a longer target (two codes joined) is cut.
            target_id=None if target_id is None else str(target_id)[:100],
            details=details or {},
            request_id=operator.request_id,
            occurred_at=utcnow(),
        )
        session.add(row)
        return row

    async def list_actions(
        self, session: AsyncSession, *, cursor: str | None, limit: int
    ) -> tuple[list[OperatorActionMixin], str | None]:
        """One page of the audit log, newest first, and the next page's cursor (None at the
        end)."""
        model = self.action_model
        query = select(model)
        if cursor:
            after = decode_cursor(cursor)
            query = query.where(
                or_(
                    model.occurred_at < after.created_at,
                    and_(model.occurred_at == after.created_at, model.id < after.id),
                )
            )
        query = query.order_by(model.occurred_at.desc(), model.id.desc()).limit(
            limit + 1
        )
        rows = list((await session.scalars(query)).all())
        page, more = rows[:limit], len(rows) > limit
        next_cursor = (
            encode_cursor(PageKey(page[-1].occurred_at, page[-1].id)) if more else None
        )
        return page, next_cursor

    async def _key_by_name(
        self, session: AsyncSession, name: str, *, for_update: bool = False
    ) -> OperatorKeyMixin | None:
        query = select(self.key_model).where(self.key_model.name == name)
        if for_update:
            query = query.with_for_update()
        return await session.scalar(query)

    async def create_key(
        self,
        session: AsyncSession,
        *,
        name: str,
        role: Role,
        configured: Sequence[ConfiguredKey],
    ) -> str:
        """Store a new key under `name` and return it: the only time it is ever seen."""
        if any(key.name == name for key in configured):
            raise KeyNameTaken(name)
        if await self._key_by_name(session, name) is not None:
            raise KeyNameTaken(name)
        key = generate_key(self.key_prefix)
        session.add(
            self.key_model(  # type: ignore[call-arg]  # a declarative class
                name=name, role=role.value, key_hash=hash_key(key), created_at=utcnow()
            )
        )
        action = self.record(
            session,
            CLI_OPERATOR,
            action=f"{self.kind}.create",
            target_type=self.kind,
            target_id=name,
            details={"role": role.value},
        )
        try:
            await commit(session, action)
        except IntegrityError as exc:  # the same name made at the same moment
            await session.rollback()
            raise KeyNameTaken(name) from exc
        return key

    async def list_keys(
        self, session: AsyncSession, *, configured: Sequence[ConfiguredKey]
    ) -> list[KeyInfo]:
        """Every key: those from the settings first, then the database's (revoked ones too)."""
        keys = [
            KeyInfo(name=k.name, role=k.role, source="settings") for k in configured
        ]
        query = select(self.key_model).order_by(
            self.key_model.created_at, self.key_model.name
        )
        keys += [
            KeyInfo(
                name=row.name,
                role=Role(row.role),
                source="database",
                created_at=row.created_at,
                last_used_at=row.last_used_at,
                revoked_at=row.revoked_at,
            )
            for row in await session.scalars(query)
        ]
        return keys

    async def revoke_key(
        self, session: AsyncSession, *, name: str, configured: Sequence[ConfiguredKey]
    ) -> bool:
        """Revoke the key named `name` at once; False when it was revoked before.

        A key in the database is revoked even when the settings name another key so (added
        there after it was made): each still lets its holder in until revoked its own way.
        """
        row = await self._key_by_name(session, name, for_update=True)
        if row is None:
            if any(key.name == name for key in configured):
                raise KeyInSettings(name)
            raise KeyNotFound(name)
        if row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        action = self.record(
            session,
            CLI_OPERATOR,
            action=f"{self.kind}.revoke",
            target_type=self.kind,
            target_id=name,
        )
        await commit(session, action)
        return True
