"""One attempt at a CRM call, and what a failed one means for its delivery.

The case pusher and the action forwarder both make attempts this way: a delivery is claimed
for a short lease, which is renewed while the call runs (so a worker that dies leaves its
claims to others within a lease, while a slow call keeps its own); the call runs within a time
limit of its own, its failure is classified by the connector's exceptions (`crm_adapter.crm.
connector`), and a failure either ends the delivery as dead (a refusal at once; anything else
once the retry budget is spent while the CRM's breaker is closed) or schedules the next
attempt with backoff, honouring the CRM's `Retry-After`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from opentelemetry.trace import SpanKind
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.cases.models import ActionState, Case, CaseAction, CaseState
from crm_adapter.config import BreakerPolicy
from crm_adapter.crm.connector import (
    CrmConnector,
    CrmRejected,
    CrmUnauthorized,
    CrmUnavailable,
)
from crm_adapter.deliveries import breaker
from crm_adapter.deliveries.models import DeliveryKind, Outcome
from crm_adapter.deliveries.service import (
    Timer,
    budget_spent,
    crm_answered,
    log_attempt,
)
from shared import tracing
from shared.background import for_each_concurrently
from shared.db import utcnow
from shared.retry import Backoff, LeaseLost, under_lease

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Failure:
    """Why an attempt failed, as the delivery log and the retry decision need it."""

    error: str
    permanent: bool = False
    """The CRM refused the request for what it is: retrying changes nothing."""
    status: int | None = None
    """The CRM's HTTP status, when it answered."""
    retry_after: float | None = None
    unauthorized: bool = False
    lease_lost: bool = False
    """The claim could not be held while the call ran: nothing is known of the CRM."""


async def attempt(
    call: Callable[[], Awaitable[T]],
    *,
    seconds: float,
    event: str,
    extra: Mapping[str, Any],
    renew: Callable[[], Awaitable[bool]] | None = None,
    lease: dt.timedelta | None = None,
) -> T | Failure:
    """The call's result, or its failure; an unexpected exception is logged as `event`.

    With `renew`, the claim is renewed every third of `lease` while the call runs, and the
    call is abandoned once the claim is lost (`shared.retry.under_lease`).
    """

    async def held() -> T:
        if renew is None or lease is None:
            return await call()
        return await under_lease(call, renew=renew, lease=lease)

    try:
        async with asyncio.timeout(seconds):
            return await held()
    except LeaseLost as exc:
        return Failure(f"lease lost: {exc}", lease_lost=True)
    except CrmUnavailable as exc:
        return Failure(
            str(exc),
            status=exc.status,
            retry_after=exc.retry_after,
            unauthorized=isinstance(exc, CrmUnauthorized),
        )
    except CrmRejected as exc:
        return Failure(str(exc), permanent=True, status=exc.status)
    except TimeoutError:
        return Failure("attempt timed out")
    except Exception as exc:
        logger.exception(event, extra=dict(extra))
        return Failure(f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A delivery claimed for one attempt."""

    delivery_id: uuid.UUID
    case_id: uuid.UUID
    kind: DeliveryKind
    connector: str
    attempt: int
    probe: bool
    """The half-open breaker's probe: its outcome closes or reopens the breaker."""
    traceparent: str | None = None
    """The trace of what asked for the delivery (the report's, a reopen's), which the
    attempt continues: the CRM gets it in `traceparent`."""


ClaimT = TypeVar("ClaimT", bound=Claim)
RowT = TypeVar("RowT")


class DeliveryLoop(ABC, Generic[RowT, ClaimT]):
    """A loop that claims due deliveries and makes one attempt at each, side by side.

    A claim skips the connectors whose breaker is open and takes one probe from each
    half-open one (`crm_adapter.deliveries.breaker`). Subclasses say which rows are due
    (`_due`), what a claim of one carries (`_claimed`) and how it is delivered (`_deliver`).
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        connectors: Mapping[str, CrmConnector],
        backoff: Backoff,
        lease: dt.timedelta,
        attempt_timeout: float = 60.0,
        breaker_policy: BreakerPolicy | None = None,
        batch_size: int = 10,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._connectors = connectors
        self._policy = RetryPolicy(backoff, breaker_policy or BreakerPolicy())
        self._lease = lease
        self._attempt_timeout = attempt_timeout
        self.batch_size = batch_size
        """Most items one step takes."""

    async def run_once(self) -> int:
        claims = await self._claim()
        await for_each_concurrently(claims, self._traced)
        return len(claims)

    async def _traced(self, claim: ClaimT) -> None:
        with tracing.continued(
            claim.traceparent,
            f"crm.{claim.kind}",
            kind=SpanKind.PRODUCER,
            attributes={
                "mam.connector": claim.connector,
                "mam.delivery_id": str(claim.delivery_id),
                "mam.attempt": claim.attempt,
            },
        ):
            await self._deliver(claim)

    async def _claim(self) -> list[ClaimT]:
        now = utcnow()
        async with self._sessionmaker() as session:
            gate = await breaker.gate(session, now)
            due = await self._due(
                session, now, limit=self.batch_size, skip=gate.blocked
            )
            picked = [(row, False) for row in due]
            for name in sorted(gate.probing):
                probe = await self._due(session, now, limit=1, connector=name)
                if probe:
                    await breaker.start_probe(session, name, now=now, lease=self._lease)
                    picked.append((probe[0], True))
            claims = [self._claimed(row, now=now, probe=probe) for row, probe in picked]
            await session.commit()
        return claims

    @abstractmethod
    async def _due(
        self,
        session: AsyncSession,
        now: dt.datetime,
        *,
        limit: int,
        skip: Collection[str] = (),
        connector: str | None = None,
    ) -> Sequence[RowT]:
        """Up to `limit` due rows, locked (skipping those another worker holds), of
        `connector` only or of any connector but those in `skip`."""

    @abstractmethod
    def _claimed(self, row: RowT, *, now: dt.datetime, probe: bool) -> ClaimT:
        """The row claimed for one attempt (`begin_attempt`), as its claim."""

    @abstractmethod
    async def _deliver(self, claim: ClaimT) -> None:
        """Make the claim's attempt and record its outcome."""


def begin_attempt(
    row: Case | CaseAction, *, now: dt.datetime, lease: dt.timedelta
) -> int:
    """Claim the delivery for one attempt until the lease ends; the attempt's number.

    The claim is the attempt's number: `renew_claim` moves the lease on while the attempt
    runs, and only the worker holding that number records the outcome. The retry budget runs
    from the first attempt, not from the days a delivery may have waited for a route (a
    report held as unroutable) or for its case (a reopen).
    """
    if row.attempts == 0:
        row.retry_since = now
    row.attempts += 1
    row.next_attempt_at = now + lease
    return row.attempts


async def renew_claim(
    sessionmaker: async_sessionmaker[AsyncSession], claim: Claim, *, lease: dt.timedelta
) -> bool:
    """Move the claimed delivery's lease (and a probe's hold on its breaker) one lease
    ahead; False if the delivery is no longer ours (another worker took it over)."""
    model: type[Case] | type[CaseAction]
    if claim.kind == DeliveryKind.CREATE:
        model, pending = Case, CaseState.PENDING.value
    else:
        model, pending = CaseAction, ActionState.PENDING.value
    now = utcnow()
    async with sessionmaker() as session:
        result = await session.execute(
            update(model)
            .where(
                model.id == claim.delivery_id,
                model.attempts == claim.attempt,
                model.state == pending,
            )
            .values(next_attempt_at=now + lease)
        )
        held = bool(result.rowcount == 1)  # type: ignore[attr-defined]
        if held and claim.probe:
            await breaker.renew_probe(session, claim.connector, now=now, lease=lease)
        await session.commit()
    return held


@dataclass(frozen=True)
class RetryPolicy:
    backoff: Backoff
    breaker: BreakerPolicy


def log(
    session: AsyncSession,
    claim: Claim,
    timer: Timer,
    outcome: Outcome,
    failure: Failure | None = None,
) -> None:
    """The attempt in the delivery log, in the caller's transaction."""
    log_attempt(
        session,
        delivery_id=claim.delivery_id,
        case_id=claim.case_id,
        kind=claim.kind,
        connector=claim.connector,
        attempt=claim.attempt,
        timer=timer,
        outcome=outcome,
        http_status=failure.status if failure else None,
        error=failure.error if failure else None,
    )


async def record_failure(
    session: AsyncSession,
    row: Case | CaseAction,
    claim: Claim,
    failure: Failure,
    *,
    timer: Timer,
    policy: RetryPolicy,
    now: dt.datetime,
) -> bool:
    """Record the failed attempt on its delivery and in the delivery log; True when the
    delivery is dead now (the caller marks it so), else its next attempt is scheduled.

    A refusal means the CRM is up (its breaker closes); any other failure counts against
    the breaker, and while the breaker is open the outage is not the delivery's fault: no
    budget ends.
    """
    row.last_error = failure.error[:2048]
    row.updated_at = now
    breaker_open = False
    if failure.lease_lost:
        pass  # says nothing of the CRM
    elif failure.permanent:
        if failure.status is not None:
            await crm_answered(session, claim.connector, now=now)
    else:
        breaker_open = await breaker.record_failure(
            session,
            claim.connector,
            policy=policy.breaker,
            now=now,
            error=failure.error,
            probe=claim.probe,
            unauthorized=failure.unauthorized,
        )
    dead = failure.permanent or (
        not breaker_open and budget_spent(row, budget=policy.backoff.budget, now=now)
    )
    if not dead:
        delay = policy.backoff.delay(claim.attempt, failure.retry_after)
        row.next_attempt_at = now + dt.timedelta(seconds=delay)
    log(session, claim, timer, Outcome.DEAD if dead else Outcome.RETRY, failure)
    return dead
