"""Passing reporters' reopens and comments to their CRM cases, in order, exactly once in effect.

An action is due when its case exists in the CRM (a reopen never overtakes the case's
creation: until then it waits) and every earlier action of the same case is done: a case's
actions reach the CRM one after the other, in the order intake sent them, and one held as
dead holds the later ones back with it until an operator resolves it. A claim moves
`next_attempt_at` one lease ahead, so a forwarder that dies mid-call leaves the action to be
claimed again later; each attempt carries the action's id as the CRM's idempotency key, so a
repeat after an answer we never saw changes nothing there. Failures are retried with backoff
until the retry budget is spent; a refusal of our request (400, 413, 422) is dead at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from crm_adapter.cases.models import (
    ActionKind,
    ActionState,
    Case,
    CaseAction,
    CaseState,
)
from crm_adapter.crm.connector import CrmConnector, CrmRejected, CrmUnavailable
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


class ActionForwarder:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        connectors: Mapping[str, CrmConnector],
        backoff: Backoff,
        lease: dt.timedelta,
        batch_size: int = 10,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._connectors = connectors
        self._backoff = backoff
        self._lease = lease
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
        query = (
            select(CaseAction, Case)
            .join(Case, Case.id == CaseAction.case_id)
            .where(
                CaseAction.state == ActionState.PENDING,
                CaseAction.next_attempt_at <= now,
                Case.state == CaseState.CREATED,
                Case.crm_case_id.is_not(None),
                ~earlier_not_done,
            )
            .order_by(CaseAction.seq)
            .limit(self._batch_size)
            # SQLite ignores this; there the claim is exclusive through BEGIN IMMEDIATE.
            .with_for_update(skip_locked=True, of=CaseAction)
        )
        async with self._sessionmaker() as session:
            rows = (await session.execute(query)).all()
            claims = []
            for action, case in rows:
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
                    )
                )
            await session.commit()
        return claims

    async def _forward(self, claim: _Claim) -> None:
        connector = self._connectors.get(claim.connector)
        if connector is None:
            await self._failed(
                claim, f"no connector {claim.connector!r}", permanent=True
            )
            return
        try:
            # The whole attempt ends well inside the lease, so no other forwarder can take
            # the action over while ours may still be on its way to the CRM.
            async with asyncio.timeout(self._lease.total_seconds() / 2):
                await self._send(connector, claim)
        except CrmUnavailable as exc:
            await self._failed(claim, str(exc), retry_after=exc.retry_after)
        except CrmRejected as exc:
            await self._failed(claim, str(exc), permanent=True)
        except TimeoutError:
            await self._failed(claim, "attempt timed out")
        except Exception as exc:
            logger.exception(
                "case_action.failed", extra={"report_id": str(claim.report_id)}
            )
            await self._failed(claim, f"{type(exc).__name__}: {exc}")
        else:
            await self._done(claim)

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

    async def _done(self, claim: _Claim) -> None:
        async with self._sessionmaker() as session:
            action = await self._own(session, claim)
            if action is None:
                return
            now = utcnow()
            action.state = ActionState.DONE
            action.done_at = now
            action.updated_at = now
            action.last_error = None
            await session.commit()
        logger.info(
            "case_action.done",
            extra={"report_id": str(claim.report_id), "kind": claim.kind},
        )

    async def _failed(
        self,
        claim: _Claim,
        error: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> None:
        async with self._sessionmaker() as session:
            action = await self._own(session, claim)
            if action is None:
                return
            now = utcnow()
            action.last_error = error[:2048]
            action.updated_at = now
            if permanent or now - action.created_at > self._backoff.budget:
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
            await session.commit()

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
