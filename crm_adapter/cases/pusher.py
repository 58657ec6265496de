"""Creating pending cases in the CRM, exactly once per report.

A claim moves `next_attempt_at` one lease ahead, so a pusher that dies mid-call leaves the case
to be claimed again later. Any attempt after the first (and the first after a replay) may
follow one whose outcome we never saw (a timeout after the CRM committed), so it looks the
case up by external reference first and creates it only when the CRM has none.

Failures are classified by the connector (`crm_adapter.crm.connector`): a refusal is dead at
once, anything else is retried with backoff until the retry budget is spent. Claims skip the
connectors whose circuit breaker is open and take one probe from a half-open one
(`crm_adapter.deliveries.breaker`); every attempt is written to the delivery log.
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

from crm_adapter.cases.models import Case, CaseState
from crm_adapter.cases.service import FORWARDER, emit_status, set_status
from crm_adapter.crm.connector import (
    CaseDraft,
    CrmCase,
    CrmConnector,
    CrmRejected,
    CrmUnauthorized,
    CrmUnavailable,
)
from crm_adapter.crm.mapping import canonical_status
from crm_adapter.deliveries import breaker
from crm_adapter.deliveries.breaker import BreakerPolicy
from crm_adapter.deliveries.models import DeliveryKind, Outcome
from crm_adapter.deliveries.service import (
    Timer,
    budget_spent,
    crm_answered,
    log_attempt,
)
from shared.background import for_each_concurrently
from shared.contracts import ReportStatus
from shared.db import utcnow
from shared.retry import Backoff
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Claim:
    case_id: uuid.UUID
    attempt: int
    connector: str
    draft: CaseDraft
    look_up: bool
    """An earlier attempt may have created the case: look it up before creating."""
    probe: bool
    """The half-open breaker's probe: its outcome closes or reopens the breaker."""


class CasePusher:
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
        await for_each_concurrently(claims, self._push)
        return len(claims)

    async def _claim(self) -> list[_Claim]:
        now = utcnow()
        due = (Case.state == CaseState.PENDING, Case.next_attempt_at <= now)
        async with self._sessionmaker() as session:
            gate = await breaker.gate(session, now)
            query = (
                select(Case)
                .where(*due)
                .order_by(Case.next_attempt_at)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
            )
            if gate.blocked:
                query = query.where(Case.connector.not_in(gate.blocked))
            picked = [(case, False) for case in (await session.scalars(query)).all()]
            for name in sorted(gate.probing):
                first = await session.scalar(
                    select(Case)
                    .where(*due, Case.connector == name)
                    .order_by(Case.next_attempt_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if first is not None:
                    await breaker.start_probe(session, name, now=now, lease=self._lease)
                    picked.append((first, True))
            claims = []
            for case, probe in picked:
                assert case.unit_code is not None
                assert case.connector is not None
                look_up = case.attempts > 0 or case.last_error is not None
                case.attempts += 1
                case.next_attempt_at = now + self._lease
                draft = CaseDraft(
                    external_ref=case.report_id,
                    number=case.report_number,
                    category=case.category,
                    unit=case.unit_code,
                    description=case.description,
                    attributes=case.attributes,
                    lat=case.lat,
                    lon=case.lon,
                    photo_ids=case.photo_ids,
                    reported_at=case.submitted_at,
                    reporter=case.reporter_contact,
                )
                claims.append(
                    _Claim(
                        case.id, case.attempts, case.connector, draft, look_up, probe
                    )
                )
            await session.commit()
        return claims

    async def _push(self, claim: _Claim) -> None:
        timer = Timer()
        connector = self._connectors.get(claim.connector)
        if connector is None:
            await self._failed(
                claim, timer, f"no connector {claim.connector!r}", permanent=True
            )
            return
        crm_case = None
        found = False
        try:
            # The whole attempt ends well inside the lease, so no other pusher can take the
            # case over while our create may still be on its way to the CRM.
            async with asyncio.timeout(self._lease.total_seconds() / 2):
                if claim.look_up:
                    try:
                        crm_case = await connector.find_case(claim.draft.external_ref)
                    except CrmRejected as exc:  # a look-up is never a reason to give up
                        raise CrmUnavailable(str(exc), status=exc.status) from exc
                    found = crm_case is not None
                if crm_case is None:
                    crm_case = await connector.create_case(claim.draft)
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
                "case.push_failed", extra={"report_id": str(claim.draft.external_ref)}
            )
            await self._failed(claim, timer, f"{type(exc).__name__}: {exc}")
        else:
            await self._created(claim, timer, crm_case, found=found)

    async def _created(
        self, claim: _Claim, timer: Timer, crm_case: CrmCase, *, found: bool
    ) -> None:
        async with self._sessionmaker() as session:
            case = await session.get(Case, claim.case_id, with_for_update=True)
            assert case is not None
            case.state = CaseState.CREATED
            case.last_error = None
            case.updated_at = utcnow()
            if case.crm_case_id not in (None, crm_case.case_id):
                # Only possible if an attempt outlived its lease: keep the first, tell operators.
                logger.error(
                    "case.duplicate_in_crm",
                    extra={
                        "report_id": str(case.report_id),
                        "kept": case.crm_case_id,
                        "duplicate": crm_case.case_id,
                    },
                )
            if case.crm_case_id is None:
                case.crm_case_id = crm_case.case_id
                case.crm_status = crm_case.status
                case.crm_version = max(case.crm_version, crm_case.version or 0)
            if case.status_version == 0:
                # Nothing told intake about this case yet (a webhook may have beaten us to it).
                set_status(
                    case,
                    await canonical_status(session, claim.connector, crm_case.status)
                    or ReportStatus.SUBMITTED,
                    at=case.updated_at,
                )
                emit_status(session, case, note=None, changed_at=case.updated_at)
            self._log(
                session,
                claim,
                timer,
                Outcome.SKIPPED_BY_LOOKUP if found else Outcome.DELIVERED,
            )
            await crm_answered(session, claim.connector, now=case.updated_at)
            # Reopens and comments waiting for the case can go now.
            wake_after_commit(session, FORWARDER)
            await session.commit()
        logger.info(
            "case.created",
            extra={
                "report_id": str(claim.draft.external_ref),
                "crm_case_id": crm_case.case_id,
                "found": found,
            },
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
        now = utcnow()
        async with self._sessionmaker() as session:
            case = await session.get(Case, claim.case_id, with_for_update=True)
            assert case is not None
            if case.attempts != claim.attempt or case.state != CaseState.PENDING:
                return  # another pusher took over after our lease ran out
            case.last_error = error[:2048]
            case.updated_at = now
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
            # While the breaker is open the outage is not this case's fault: no budget ends.
            if permanent or (
                not breaker_open
                and budget_spent(case, budget=self._backoff.budget, now=now)
            ):
                case.state = CaseState.DEAD
                outcome = Outcome.DEAD
                logger.error(
                    "case.dead",
                    extra={"report_id": str(case.report_id), "error": error},
                )
            else:
                outcome = Outcome.RETRY
                delay = self._backoff.delay(claim.attempt, retry_after)
                case.next_attempt_at = now + dt.timedelta(seconds=delay)
                logger.warning(
                    "case.retry",
                    extra={
                        "report_id": str(case.report_id),
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
            delivery_id=claim.case_id,
            case_id=claim.case_id,
            kind=DeliveryKind.CREATE,
            connector=claim.connector,
            attempt=claim.attempt,
            timer=timer,
            outcome=outcome,
            http_status=status,
            error=error,
        )
