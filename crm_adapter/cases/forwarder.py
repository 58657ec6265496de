"""Passing reporters' reopens and comments to their CRM cases, in order, exactly once in effect.

An action is due when its case exists in the CRM (a reopen never overtakes the case's
creation: until then it waits) and every earlier action of the same case is done: a case's
actions reach the CRM one after the other, in the order intake sent them, and one held as
dead holds the later ones back with it until an operator resolves it. A claim moves
`next_attempt_at` one lease ahead, so a forwarder that dies mid-call leaves the action to be
claimed again later; each attempt carries the action's id as the CRM's idempotency key, so a
repeat after an answer we never saw changes nothing there. Failures are classified by the
connector (`crm_adapter.crm.connector`): a refusal (a 4xx but 401/403/408/409/425/429) is dead
at once, anything else is retried with backoff until the retry budget is spent. Claims skip
the connectors whose circuit breaker is open and take one probe from a half-open one
(`crm_adapter.deliveries.breaker`); every attempt is written to the delivery log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from crm_adapter.cases.models import (
    ActionKind,
    ActionState,
    Case,
    CaseAction,
    CaseState,
)
from crm_adapter.crm.connector import (
    CrmConnector,
    CrmRejected,
    CrmUnauthorized,
    CrmUnavailable,
)
from crm_adapter.deliveries import breaker
from crm_adapter.deliveries.breaker import BreakerPolicy
from crm_adapter.deliveries.models import Outcome
from crm_adapter.deliveries.service import (
    Timer,
    budget_spent,
    crm_answered,
    log_attempt,
)
from shared.background import for_each_concurrently
from shared.db import utcnow
from shared.retry import Backoff

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Claim:
    action_id: uuid.UUID
    attempt: int
    kind: ActionKind
    comment: str | None
    connector: str
    crm_case_id: str
    report_id: uuid.UUID
    case_id: uuid.UUID
    probe: bool
    """The half-open breaker's probe: its outcome closes or reopens the breaker."""


class ActionForwarder:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        connectors: Mapping[str, CrmConnector],
        backoff: Backoff,
        lease: dt.timedelta,
        breaker_policy: BreakerPolicy | None = None,
        batch_size: int = 10,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._connectors = connectors
        self._backoff = backoff
        self._lease = lease
        self._breaker = breaker_policy or BreakerPolicy()
        self._batch_size = batch_size

    async def run_once(self) -> int:
        claims = await self._claim()
        # At most one action per case is ever due, so side by side keeps each case in order.
        await for_each_concurrently(claims, self._forward)
        return len(claims)

    async def _claim(self) -> list[_Claim]:
        now = utcnow()
        earlier = aliased(CaseAction)
        earlier_not_done = (
            select(earlier.seq)
            .where(
                earlier.case_id == CaseAction.case_id,
                earlier.seq < CaseAction.seq,
                earlier.state != ActionState.DONE,
            )
            .exists()
        )
        due = (
            CaseAction.state == ActionState.PENDING,
            CaseAction.next_attempt_at <= now,
            Case.state == CaseState.CREATED,
            Case.crm_case_id.is_not(None),
            ~earlier_not_done,
        )

        def query(limit: int) -> Select[CaseAction, Case]:
            return (
                select(CaseAction, Case)
                .join(Case, Case.id == CaseAction.case_id)
                .where(*due)
                .order_by(CaseAction.seq)
                .limit(limit)
                # SQLite ignores this; there the claim is exclusive through BEGIN IMMEDIATE.
                .with_for_update(skip_locked=True, of=CaseAction)
            )

        async with self._sessionmaker() as session:
            gate = await breaker.gate(session, now)
            main = query(self._batch_size)
            if gate.blocked:
                main = main.where(Case.connector.not_in(gate.blocked))
            rows = [(a, c, False) for a, c in (await session.execute(main)).all()]
            for name in sorted(gate.probing):
                probe = (
                    await session.execute(query(1).where(Case.connector == name))
                ).first()
                if probe is not None:
                    await breaker.start_probe(session, name, now=now, lease=self._lease)
                    rows.append((probe[0], probe[1], True))
            claims = []
            for action, case, is_probe in rows:
                assert case.connector is not None
                assert case.crm_case_id is not None
                action.attempts += 1
                action.next_attempt_at = now + self._lease
                claims.append(
                    _Claim(
                        action_id=action.id,
                        attempt=action.attempts,
                        kind=ActionKind(action.kind),
                        comment=action.comment,
                        connector=case.connector,
                        crm_case_id=case.crm_case_id,
                        report_id=case.report_id,
                        case_id=case.id,
                        probe=is_probe,
                    )
                )
            await session.commit()
        return claims

    async def _forward(self, claim: _Claim) -> None:
        timer = Timer()
        connector = self._connectors.get(claim.connector)
        if connector is None:
            await self._failed(
                claim, timer, f"no connector {claim.connector!r}", permanent=True
            )
            return
        try:
            # The whole attempt ends well inside the lease, so no other forwarder can take
            # the action over while ours may still be on its way to the CRM.
            async with asyncio.timeout(self._lease.total_seconds() / 2):
                await self._send(connector, claim)
        except CrmUnavailable as exc:
            await self._failed(
                claim,
                timer,
                str(exc),
                retry_after=exc.retry_after,
                status=exc.status,
                unauthorized=isinstance(exc, CrmUnauthorized),
            )
        except CrmRejected as exc:
            await self._failed(
                claim, timer, str(exc), permanent=True, status=exc.status
            )
        except TimeoutError:
            await self._failed(claim, timer, "attempt timed out")
        except Exception as exc:
            logger.exception(
                "case_action.failed", extra={"report_id": str(claim.report_id)}
            )
            await self._failed(claim, timer, f"{type(exc).__name__}: {exc}")
        else:
            await self._done(claim, timer)

    @staticmethod
    async def _send(connector: CrmConnector, claim: _Claim) -> None:
        if claim.kind == ActionKind.REOPEN:
            await connector.reopen(
                claim.crm_case_id, comment=claim.comment, request_id=claim.action_id
            )
        elif claim.kind == ActionKind.ERASE_CONTACT:
            await connector.erase_contact(claim.crm_case_id, request_id=claim.action_id)
        else:
            assert claim.comment is not None
            await connector.add_comment(
                claim.crm_case_id, comment=claim.comment, request_id=claim.action_id
            )

    async def _done(self, claim: _Claim, timer: Timer) -> None:
        async with self._sessionmaker() as session:
            action = await self._own(session, claim)
            if action is None:
                return
            now = utcnow()
            action.state = ActionState.DONE
            action.done_at = now
            action.updated_at = now
            action.last_error = None
            self._log(session, claim, timer, Outcome.DELIVERED)
            await crm_answered(session, claim.connector, now=now)
            await session.commit()
        logger.info(
            "case_action.done",
            extra={"report_id": str(claim.report_id), "kind": claim.kind},
        )

    async def _failed(
        self,
        claim: _Claim,
        timer: Timer,
        error: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        status: int | None = None,
        unauthorized: bool = False,
    ) -> None:
        async with self._sessionmaker() as session:
            action = await self._own(session, claim)
            if action is None:
                return
            now = utcnow()
            action.last_error = error[:2048]
            action.updated_at = now
            breaker_open = False
            if permanent and status is not None:
                await crm_answered(session, claim.connector, now=now)
            elif not permanent:
                breaker_open = await breaker.record_failure(
                    session,
                    claim.connector,
                    policy=self._breaker,
                    now=now,
                    error=error,
                    probe=claim.probe,
                    unauthorized=unauthorized,
                )
            # While the breaker is open the outage is not this action's fault.
            if permanent or (
                not breaker_open
                and budget_spent(action, budget=self._backoff.budget, now=now)
            ):
                outcome = Outcome.DEAD
                action.state = ActionState.DEAD
                logger.error(
                    "case_action.dead",
                    extra={
                        "report_id": str(claim.report_id),
                        "kind": claim.kind,
                        "error": error,
                    },
                )
            else:
                outcome = Outcome.RETRY
                delay = self._backoff.delay(claim.attempt, retry_after)
                action.next_attempt_at = now + dt.timedelta(seconds=delay)
                logger.warning(
                    "case_action.retry",
                    extra={
                        "report_id": str(claim.report_id),
                        "kind": claim.kind,
                        "attempt": claim.attempt,
                        "error": error,
                    },
                )
            self._log(session, claim, timer, outcome, status=status, error=error)
            await session.commit()

    @staticmethod
    def _log(
        session: AsyncSession,
        claim: _Claim,
        timer: Timer,
        outcome: Outcome,
        *,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        log_attempt(
            session,
            delivery_id=claim.action_id,
            case_id=claim.case_id,
            kind=claim.kind,
            connector=claim.connector,
            attempt=claim.attempt,
            timer=timer,
            outcome=outcome,
            http_status=status,
            error=error,
        )

    @staticmethod
    async def _own(session: AsyncSession, claim: _Claim) -> CaseAction | None:
        """The claimed action, locked, unless another forwarder took over after our lease."""
        action = await session.scalar(
            select(CaseAction).where(CaseAction.id == claim.action_id).with_for_update()
        )
        assert action is not None
        if action.attempts != claim.attempt or action.state != ActionState.PENDING:
            return None
        return action
