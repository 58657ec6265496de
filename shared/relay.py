"""The outbox relay: claims due outbox rows (`shared.outbox`), POSTs each signed envelope to
its receiver, and records the outcome.

A row is claimed under a short lease, renewed while the send is under way, so a relay that
dies mid-send leaves its rows to be claimed again within a lease: the receiver dedupes on the
event id, so a second send has no second effect. Events of one aggregate go out strictly in
the order they were written.

When the receiver cannot be reached or says it is unavailable (a connection error, a timeout,
502/503/504 without `Retry-After`), the failure is recorded with `UNAVAILABLE` in front of its
error. Once such failures come one after another, the relay holds the receiver for down: it
tries one waiting event every `probe_every` whatever that event's backoff, and the first
event the receiver takes makes every event backed off by such failures due at once, so the
queue flows again as soon as the receiver is back rather than when each backoff ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

import httpx
from opentelemetry.trace import SpanKind
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from shared import tracing
from shared.background import for_each_concurrently
from shared.db import utcnow
from shared.outbox import DEAD, IN_FLIGHT, PENDING, RELAY, SENT, OutboxMixin
from shared.retry import Backoff, LeaseLost, parse_retry_after, under_lease
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.signing import Signer
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)

UNAVAILABLE = "unavailable: "
"""Starts the `last_error` of an attempt that failed because the receiver could not be
reached or was unavailable (rather than because it refused the event)."""

DOWN_AFTER = 2
"""Failures of that kind in a row, with no answer in between, that make the receiver down."""


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    payload: str
    attempts: int
    created_at: dt.datetime
    token: uuid.UUID
    followed: bool
    """A later event of the same aggregate waits for this one to be sent."""
    traceparent: str | None = None
    """The trace of what wrote the event, which its sending continues."""


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
        lease: dt.timedelta = dt.timedelta(seconds=10),
        attempt_timeout: float = 30.0,
        probe_every: dt.timedelta = dt.timedelta(seconds=1),
        wakeup: asyncio.Event | None = None,
        batch_size: int = 50,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._model = model
        self._client = client
        self._url = url
        self._signer = signer
        self._backoff = backoff
        self._lease = lease
        self._attempt_timeout = attempt_timeout
        self._probe_every = probe_every
        self._wakeup = wakeup
        self.batch_size = batch_size
        """Most items one step takes."""
        # What this process knows of the receiver.
        self._unavailable_in_a_row = 0
        self._down = False
        self._next_probe_at = utcnow()
        self._probe_timer: asyncio.TimerHandle | None = None
        # A relay that starts may find events backed off by an outage its predecessor saw.
        self._release_on_success = True

    @property
    def receiver_down(self) -> bool:
        """Whether the receiver is held for down (it is being probed)."""
        return self._down

    async def run_once(self) -> int:
        """Send what is due; returns how many rows were claimed."""
        claimed = await self._claim()
        if not claimed and self._down and utcnow() >= self._next_probe_at:
            claimed = await self._claim(probe=True)
        if claimed and self._down:
            self._next_probe_at = utcnow() + self._probe_every
        # The claim holds at most one event per aggregate, so sending them side by side keeps
        # each report's events in order.
        await for_each_concurrently(claimed, self._send)
        if self._down:
            self._wake_for_the_next_probe()
        return len(claimed)

    def _wake_for_the_next_probe(self) -> None:
        if self._wakeup is None:
            return
        if self._probe_timer is not None:
            self._probe_timer.cancel()
        wait = max((self._next_probe_at - utcnow()).total_seconds(), 0.0)
        self._probe_timer = asyncio.get_running_loop().call_later(
            wait + 0.01, self._wakeup.set
        )

    def _due(self, now: dt.datetime, *, probe: bool) -> Select[OutboxMixin, bool]:
        """The due rows whose aggregate has no earlier event unsent, each with whether a
        later event of its aggregate waits for it."""
        m = self._model
        earlier = aliased(m)
        earlier_unsent = (
            select(earlier.seq)
            .where(
                earlier.aggregate_id == m.aggregate_id,
                earlier.seq < m.seq,
                earlier.status != SENT,
            )
            .exists()
        )
        ready = m.next_attempt_at <= now
        if probe:
            ready = or_(ready, m.last_error.startswith(UNAVAILABLE))
        due = or_(
            and_(m.status == PENDING, ready),
            and_(m.status == IN_FLIGHT, m.lease_until < now),
        )
        later = aliased(m)
        followed = (
            select(later.seq)
            .where(
                later.aggregate_id == m.aggregate_id,
                later.seq > m.seq,
                later.status == PENDING,
            )
            .exists()
        )
        query = (
            select(m, followed)
            .where(due, ~earlier_unsent)
            .order_by(m.next_attempt_at if probe else m.seq)
            .limit(1 if probe else self.batch_size)
            # SQLite ignores this; there the claim is exclusive through BEGIN IMMEDIATE.
            .with_for_update(skip_locked=True, of=m)
        )
        return query

    async def _claim(self, *, probe: bool = False) -> list[_Claimed]:
        """Claim the due rows; with `probe`, the one row that has waited longest, due or
        backed off because the receiver was unavailable."""
        now = utcnow()
        token = uuid.uuid4()
        query = self._due(now, probe=probe)
        async with self._sessionmaker() as session:
            rows = (await session.execute(query)).all()
            claimed = []
            for row, is_followed in rows:
                row.status = IN_FLIGHT
                row.lease_until = now + self._lease
                row.claim_token = token
                row.attempts += 1
                claimed.append(
                    _Claimed(
                        row.id,
                        row.payload,
                        row.attempts,
                        row.created_at,
                        token,
                        bool(is_followed),
                        row.traceparent,
                    )
                )
            await session.commit()
        return claimed

    async def _renew(self, row: _Claimed) -> bool:
        """Move the row's lease one lease ahead; False if another relay took it over."""
        m = self._model
        async with self._sessionmaker() as session:
            result = await session.execute(
                update(m)
                .where(
                    m.id == row.id, m.claim_token == row.token, m.status == IN_FLIGHT
                )
                .values(lease_until=utcnow() + self._lease)
            )
            await session.commit()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        async with asyncio.timeout(self._attempt_timeout):
            return await self._client.post(self._url, content=body, headers=headers)

    async def _send(self, row: _Claimed) -> None:
        """One attempt at the row, in the trace of what wrote it: the receiver gets that
        trace in `traceparent` (a header beside the signature, which covers the body)."""
        with tracing.continued(
            row.traceparent,
            "outbox.send",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.message.id": str(row.id),
                "mam.attempt": row.attempts,
            },
        ):
            await self._attempt(row)

    async def _attempt(self, row: _Claimed) -> None:
        body = row.payload.encode()
        headers = {
            "content-type": "application/json",
            **self._signer.headers(str(row.id), body),
            **tracing.trace_headers(),
        }
        retry_after: float | None = None
        unavailable = True
        try:
            response = await under_lease(
                lambda: self._post(body, headers),
                renew=lambda: self._renew(row),
                lease=self._lease,
            )
        except LeaseLost as exc:
            # Another relay has the row, or will have it soon: it decides now.
            logger.warning(
                "outbox.lease_lost", extra={"event_id": str(row.id), "error": str(exc)}
            )
            return
        except TimeoutError:
            error = "attempt timed out"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            unavailable = isinstance(exc, httpx.TransportError)
        else:
            if response.is_success:
                await self._finish(row, status=SENT)
                logger.info(
                    "outbox.sent",
                    extra={"event_id": str(row.id), "attempt": row.attempts},
                )
                await self._answered(success=True)
                return
            error = f"HTTP {response.status_code}: {response.text[:500]}"
            retry_after = parse_retry_after(
                response.headers.get("retry-after"), utcnow()
            )
            unavailable = (
                response.status_code in (502, 503, 504) and retry_after is None
            )
        await self._failed(row, error, retry_after=retry_after, unavailable=unavailable)

    async def _failed(
        self,
        row: _Claimed,
        error: str,
        *,
        retry_after: float | None,
        unavailable: bool,
    ) -> None:
        """Record a failed send: tried again with backoff, or dead once the budget is spent."""
        if unavailable:
            error = UNAVAILABLE + error
            self._unavailable()
        else:
            await self._answered(success=False)
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

    def _unavailable(self) -> None:
        self._unavailable_in_a_row += 1
        if self._unavailable_in_a_row >= DOWN_AFTER and not self._down:
            self._down = True
            self._release_on_success = True
            self._next_probe_at = utcnow() + self._probe_every
            logger.warning("outbox.receiver_down", extra={"url": self._url})

    async def _answered(self, *, success: bool) -> None:
        """The receiver answered: it is up. Its first acceptance after an outage makes the
        events backed off by that outage due now, and wakes the relays."""
        self._unavailable_in_a_row = 0
        if self._down:
            self._down = False
            logger.info("outbox.receiver_up", extra={"url": self._url})
        if self._probe_timer is not None:
            self._probe_timer.cancel()
            self._probe_timer = None
        if success and self._release_on_success:
            self._release_on_success = False
            try:
                await self._release_backed_off()
            except Exception:
                self._release_on_success = True  # the next event taken tries again
                logger.exception("outbox.release_failed")

    async def _release_backed_off(self) -> None:
        m = self._model
        now = utcnow()
        async with self._sessionmaker() as session:
            result = await session.execute(
                update(m)
                .where(
                    m.status == PENDING,
                    m.last_error.startswith(UNAVAILABLE),
                    m.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            )
            released = int(result.rowcount or 0)  # type: ignore[attr-defined]
            if released:
                wake_after_commit(session, RELAY)
            await session.commit()
        if released:
            logger.info("outbox.released", extra={"count": released})

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
            if status == SENT and row.followed:
                # The aggregate's next event can go now: the loop looks again only when
                # woken, or when it took a whole batch.
                wake_after_commit(session, RELAY)
            await session.commit()
        if result.rowcount == 0:  # type: ignore[attr-defined]
            # Our lease expired and another relay took the row over; it decides now.
            logger.warning("outbox.lease_lost", extra={"event_id": str(row.id)})


def start_relay(
    runtime: Runtime,
    settings: ServiceSettings,
    *,
    name: str,
    model: type[OutboxMixin],
    url: str,
    secret: str,
) -> None:
    """Start the loop `name` in `runtime`, relaying `model`'s rows signed with `secret` to
    the other service's `url`, woken by `RELAY`.

    Every process that runs loops runs a relay: it sets the process's tracing up too (a
    worker process has no app to do it).
    """
    tracing.setup(settings.service_name)
    relay = OutboxRelay(
        sessionmaker=runtime.sessionmaker,
        model=model,
        client=runtime.client,
        url=url,
        signer=Signer(secret),
        backoff=settings.backoff(),
        lease=dt.timedelta(seconds=settings.relay_lease_seconds),
        attempt_timeout=settings.relay_timeout_seconds,
        probe_every=dt.timedelta(seconds=settings.relay_probe_seconds),
        wakeup=runtime.wakeups.event(RELAY),
    )
    runtime.loops.start(
        name,
        relay.run_once,
        wakeup=runtime.wakeups.event(RELAY),
        interval=settings.poll_seconds,
        batch=relay.batch_size,
    )
