"""Transactional outbox: events written with the change that caused them, sent by a relay.

A row moves `pending` → `in_flight` (claimed under a lease) → `sent`, or back to `pending` with
a later `next_attempt_at` after a failed attempt, or to `dead` once the retry budget is spent.
A relay that dies mid-send leaves an expired lease behind, and the row is claimed again: the
receiver dedupes on the event id, so a second send has no second effect. Events of one
aggregate (a report) go out strictly in the order they were written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Text,
    Uuid,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, aliased, mapped_column

from shared.background import for_each_concurrently
from shared.contracts import Envelope
from shared.db import UtcDateTime, utcnow
from shared.retry import Backoff, parse_retry_after
from shared.signing import Signer
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)

RELAY = "outbox"
"""Name of the relay loop's wake-up (see `shared.wakeup`)."""

PENDING, IN_FLIGHT, SENT, DEAD = "pending", "in_flight", "sent", "dead"


class OutboxMixin:
    """Columns of a service's `outbox_events` table."""

    # Orders events within one aggregate; rows of different aggregates may commit out of order.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    aggregate_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


def add_event(
    session: AsyncSession,
    model: type[OutboxMixin],
    envelope: Envelope,
    *,
    aggregate_id: uuid.UUID,
) -> None:
    """Queue `envelope` in the caller's transaction; the relay is woken when it commits."""
    now = utcnow()
    row = model()
    row.id = envelope.id
    row.aggregate_id = aggregate_id
    row.event_type = envelope.event.type
    row.payload = envelope.model_dump_json()
    row.status = PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.created_at = now
    session.add(row)
    wake_after_commit(session, RELAY)


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    payload: str
    attempts: int
    created_at: dt.datetime
    token: uuid.UUID


class OutboxRelay:
    """Claims due rows, POSTs each signed envelope to `url`, and records the outcome."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        model: type[OutboxMixin],
        client: httpx.AsyncClient,
        url: str,
        signer: Signer,
        backoff: Backoff,
        lease: dt.timedelta = dt.timedelta(seconds=120),
        batch_size: int = 50,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._model = model
        self._client = client
        self._url = url
        self._signer = signer
        self._backoff = backoff
        self._lease = lease
        self._batch_size = batch_size

    async def run_once(self) -> int:
        """Send what is due; returns how many rows were claimed."""
        claimed = await self._claim()
        # The claim holds at most one event per aggregate, so sending them side by side keeps
        # each report's events in order.
        await for_each_concurrently(claimed, self._send)
        return len(claimed)

    async def _claim(self) -> list[_Claimed]:
        m = self._model
        earlier = aliased(m)
        now = utcnow()
        token = uuid.uuid4()
        earlier_unsent = (
            select(earlier.seq)
            .where(
                earlier.aggregate_id == m.aggregate_id,
                earlier.seq < m.seq,
                earlier.status != SENT,
            )
            .exists()
        )
        due = or_(
            and_(m.status == PENDING, m.next_attempt_at <= now),
            and_(m.status == IN_FLIGHT, m.lease_until < now),
        )
        query = (
            select(m)
            .where(due, ~earlier_unsent)
            .order_by(m.seq)
            .limit(self._batch_size)
            # SQLite ignores this; there the claim is exclusive through BEGIN IMMEDIATE.
            .with_for_update(skip_locked=True, of=m)
        )
        async with self._sessionmaker() as session:
            rows = list((await session.scalars(query)).all())
            claimed = []
            for row in rows:
                row.status = IN_FLIGHT
                row.lease_until = now + self._lease
                row.claim_token = token
                row.attempts += 1
                claimed.append(
                    _Claimed(row.id, row.payload, row.attempts, row.created_at, token)
                )
            await session.commit()
        return claimed

    async def _send(self, row: _Claimed) -> None:
        body = row.payload.encode()
        headers = {
            "content-type": "application/json",
            **self._signer.headers(str(row.id), body),
        }
        retry_after: float | None = None
        try:
            # Done well inside the lease, so no other relay takes the row over meanwhile.
            async with asyncio.timeout(self._lease.total_seconds() / 2):
                response = await self._client.post(
                    self._url, content=body, headers=headers
                )
        except TimeoutError:
            error = "attempt timed out"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:
            if response.is_success:
                await self._finish(row, status=SENT)
                logger.info(
                    "outbox.sent",
                    extra={"event_id": str(row.id), "attempt": row.attempts},
                )
                return
            error = f"HTTP {response.status_code}: {response.text[:500]}"
            retry_after = parse_retry_after(
                response.headers.get("retry-after"), utcnow()
            )
        now = utcnow()
        if now - row.created_at > self._backoff.budget:
            await self._finish(row, status=DEAD, error=error)
            logger.error("outbox.dead", extra={"event_id": str(row.id), "error": error})
            return
        delay = self._backoff.delay(row.attempts, retry_after)
        await self._finish(
            row,
            status=PENDING,
            error=error,
            next_attempt_at=now + dt.timedelta(seconds=delay),
        )
        logger.warning(
            "outbox.retry",
            extra={"event_id": str(row.id), "attempt": row.attempts, "error": error},
        )

    async def _finish(
        self,
        row: _Claimed,
        *,
        status: str,
        error: str | None = None,
        next_attempt_at: dt.datetime | None = None,
    ) -> None:
        m = self._model
        values: dict[str, object] = {
            "status": status,
            "lease_until": None,
            "claim_token": None,
        }
        if status == SENT:
            values["sent_at"] = utcnow()
        if error is not None:
            values["last_error"] = error[:2048]
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        async with self._sessionmaker() as session:
            result = await session.execute(
                update(m)
                .where(m.id == row.id, m.claim_token == row.token)
                .values(**values)
            )
            await session.commit()
        if result.rowcount == 0:  # type: ignore[attr-defined]
            # Our lease expired and another relay took the row over; it decides now.
            logger.warning("outbox.lease_lost", extra={"event_id": str(row.id)})
