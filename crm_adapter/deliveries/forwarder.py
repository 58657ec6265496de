"""Passing reporters' reopens and comments to their CRM cases, in order, exactly once in effect.

An action is due when its case exists in the CRM (a reopen never overtakes the case's
creation: until then it waits) and every earlier action of the same case is done: a case's
actions reach the CRM one after the other, in the order intake sent them, and one held as
dead holds the later ones back with it until an operator resolves it. A claim moves
`next_attempt_at` one (short) lease ahead, renewed while the CRM call runs, so a forwarder
that dies mid-call leaves the action to be claimed again within a lease; each attempt carries
the action's id as the CRM's idempotency key, so a repeat after an answer we never saw
changes nothing there. Failures are classified and retried
as `crm_adapter.deliveries.attempts` says: a refusal (a 4xx but 401/403/408/409/425/429) is
dead at once, anything else is retried with backoff until the retry budget is spent. Claims skip
the connectors whose circuit breaker is open and take one probe from a half-open one
(`crm_adapter.deliveries.breaker`); every attempt is written to the delivery log.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import (
    ActionState,
    Case,
    CaseAction,
)
from crm_adapter.cases.service import FORWARDER
from crm_adapter.crm.connector import CrmConnector
from crm_adapter.deliveries import queue
from crm_adapter.deliveries.attempts import (
    Claim,
    DeliveryLoop,
    Failure,
    attempt,
    begin_attempt,
    log,
    record_failure,
    renew_claim,
)
from crm_adapter.deliveries.models import DeliveryKind, Outcome
from crm_adapter.deliveries.service import Timer, crm_answered
from shared.db import utcnow
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class _Claim(Claim):
    comment: str | None
    crm_case_id: str
    report_id: uuid.UUID


class ActionForwarder(DeliveryLoop[tuple[CaseAction, Case], _Claim]):
    # At most one action per case is ever due, so side by side keeps each case in order.

    async def _due(
        self,
        session: AsyncSession,
        now: dt.datetime,
        *,
        limit: int,
        skip: Collection[str] = (),
        connector: str | None = None,
    ) -> Sequence[tuple[CaseAction, Case]]:
        return await queue.due_actions(
            session, now, limit=limit, skip=skip, connector=connector
        )

    def _claimed(
        self, row: tuple[CaseAction, Case], *, now: dt.datetime, probe: bool
    ) -> _Claim:
        action, case = row
        assert case.connector is not None
        assert case.crm_case_id is not None
        return _Claim(
            delivery_id=action.id,
            case_id=case.id,
            kind=DeliveryKind(action.kind),
            connector=case.connector,
            attempt=begin_attempt(action, now=now, lease=self._lease),
            probe=probe,
            comment=action.comment,
            crm_case_id=case.crm_case_id,
            report_id=case.report_id,
            traceparent=action.traceparent,
        )

    async def _deliver(self, claim: _Claim) -> None:
        timer = Timer()
        connector = self._connectors.get(claim.connector)
        if connector is None:
            failure = Failure(f"no connector {claim.connector!r}", permanent=True)
            await self._failed(claim, timer, failure)
            return
        # The claim is renewed while the attempt runs, and the attempt is abandoned if it
        # cannot be, so no other forwarder takes the action over while ours may still be
        # on its way to the CRM.
        result = await attempt(
            lambda: self._send(connector, claim),
            seconds=self._attempt_timeout,
            renew=lambda: renew_claim(self._sessionmaker, claim, lease=self._lease),
            lease=self._lease,
            event="case_action.failed",
            extra={"report_id": str(claim.report_id)},
        )
        if isinstance(result, Failure):
            await self._failed(claim, timer, result)
        else:
            await self._done(claim, timer)

    @staticmethod
    async def _send(connector: CrmConnector, claim: _Claim) -> None:
        if claim.kind == DeliveryKind.REOPEN:
            await connector.reopen(
                claim.crm_case_id, comment=claim.comment, request_id=claim.delivery_id
            )
        elif claim.kind == DeliveryKind.ERASE_CONTACT:
            await connector.erase_contact(
                claim.crm_case_id, request_id=claim.delivery_id
            )
        else:
            assert claim.comment is not None
            await connector.add_comment(
                claim.crm_case_id, comment=claim.comment, request_id=claim.delivery_id
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
            log(session, claim, timer, Outcome.DELIVERED)
            await crm_answered(session, claim.connector, now=now)
            # The case's next action, if any, is due now: the loop looks again only when
            # woken (actions are few; one look for nothing costs little).
            wake_after_commit(session, FORWARDER)
            await session.commit()
        logger.info(
            "case_action.done",
            extra={"report_id": str(claim.report_id), "kind": claim.kind},
        )

    async def _failed(self, claim: _Claim, timer: Timer, failure: Failure) -> None:
        async with self._sessionmaker() as session:
            action = await self._own(session, claim)
            if action is None:
                return
            dead = await record_failure(
                session,
                action,
                claim,
                failure,
                timer=timer,
                policy=self._policy,
                now=utcnow(),
            )
            extra = {
                "report_id": str(claim.report_id),
                "kind": claim.kind,
                "error": failure.error,
            }
            if dead:
                action.state = ActionState.DEAD
                logger.error("case_action.dead", extra=extra)
            else:
                logger.warning(
                    "case_action.retry", extra={**extra, "attempt": claim.attempt}
                )
            await session.commit()

    @staticmethod
    async def _own(session: AsyncSession, claim: _Claim) -> CaseAction | None:
        """The claimed action, locked, unless another forwarder took over after our lease."""
        action = await session.scalar(
            select(CaseAction)
            .where(CaseAction.id == claim.delivery_id)
            .with_for_update()
        )
        assert action is not None
        if action.attempts != claim.attempt or action.state != ActionState.PENDING:
            return None
        return action
