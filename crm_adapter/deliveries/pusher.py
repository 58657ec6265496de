"""Creating pending cases in the CRM, exactly once per report.

A claim moves `next_attempt_at` one (short) lease ahead, renewed while the CRM call runs, so a
pusher that dies mid-call leaves the case to be claimed again within a lease. Any attempt
after the first (and the first after a replay) may follow one whose outcome we never saw (a
timeout after the CRM committed, a pusher killed mid-call), so it looks the case up by
external reference first and creates it only when the CRM has none.

Failures are classified and retried as `crm_adapter.deliveries.attempts` says: a refusal is
dead at once, anything else is retried with backoff until the retry budget is spent. Claims
skip the connectors whose circuit breaker is open and take one probe from a half-open one
(`crm_adapter.deliveries.breaker`); every attempt is written to the delivery log. The first
failure is kept on the case until it is created, so that its resident can be told of a
delay (`crm_adapter.deliveries.delays`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import Case, CaseState
from crm_adapter.cases.service import FORWARDER, emit_status, set_status
from crm_adapter.crm.connector import (
    CaseDraft,
    CrmCase,
    CrmRejected,
    CrmUnavailable,
)
from crm_adapter.crm.mapping import canonical_status
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
from crm_adapter.deliveries.delays import DELAYS, tell_moving
from crm_adapter.deliveries.models import DeliveryKind, Outcome
from crm_adapter.deliveries.service import Timer, crm_answered
from shared.contracts import ReportStatus
from shared.db import utcnow
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class _Claim(Claim):
    draft: CaseDraft
    look_up: bool
    """An earlier attempt may have created the case: look it up before creating."""


class CasePusher(DeliveryLoop[Case, _Claim]):
    async def _due(
        self,
        session: AsyncSession,
        now: dt.datetime,
        *,
        limit: int,
        skip: Collection[str] = (),
        connector: str | None = None,
    ) -> Sequence[Case]:
        return await queue.due_cases(
            session, now, limit=limit, skip=skip, connector=connector
        )

    def _claimed(self, row: Case, *, now: dt.datetime, probe: bool) -> _Claim:
        assert row.unit_code is not None
        assert row.connector is not None
        look_up = row.attempts > 0 or row.last_error is not None
        attempt_number = begin_attempt(row, now=now, lease=self._lease)
        draft = CaseDraft(
            external_ref=row.report_id,
            number=row.report_number,
            category=row.category,
            unit=row.unit_code,
            description=row.description,
            attributes=row.attributes,
            lat=row.lat,
            lon=row.lon,
            photo_ids=row.photo_ids,
            reported_at=row.submitted_at,
            reporter=row.reporter_contact,
        )
        return _Claim(
            delivery_id=row.id,
            case_id=row.id,
            kind=DeliveryKind.CREATE,
            connector=row.connector,
            attempt=attempt_number,
            probe=probe,
            draft=draft,
            look_up=look_up,
            traceparent=row.traceparent,
        )

    async def _deliver(self, claim: _Claim) -> None:
        timer = Timer()
        connector = self._connectors.get(claim.connector)
        if connector is None:
            failure = Failure(f"no connector {claim.connector!r}", permanent=True)
            await self._failed(claim, timer, failure)
            return

        async def find_or_create() -> tuple[CrmCase, bool]:
            if claim.look_up:
                try:
                    found = await connector.find_case(claim.draft.external_ref)
                except CrmRejected as exc:  # a look-up is never a reason to give up
                    raise CrmUnavailable(str(exc), status=exc.status) from exc
                if found is not None:
                    return found, True
            return await connector.create_case(claim.draft), False

        # The claim is renewed while the attempt runs, and the attempt is abandoned if it
        # cannot be, so no other pusher takes the case over while our create may still be
        # on its way to the CRM.
        result = await attempt(
            find_or_create,
            seconds=self._attempt_timeout,
            renew=lambda: renew_claim(self._sessionmaker, claim, lease=self._lease),
            lease=self._lease,
            event="case.push_failed",
            extra={"report_id": str(claim.draft.external_ref)},
        )
        if isinstance(result, Failure):
            await self._failed(claim, timer, result)
        else:
            await self._created(claim, timer, *result)

    async def _created(
        self, claim: _Claim, timer: Timer, crm_case: CrmCase, found: bool
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
                await _take_case_id(session, case, crm_case.case_id)
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
            # A delay the resident was told of is over, in the same transaction.
            tell_moving(session, case, now=case.updated_at)
            log(
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

    async def _failed(self, claim: _Claim, timer: Timer, failure: Failure) -> None:
        now = utcnow()
        async with self._sessionmaker() as session:
            case = await session.get(Case, claim.case_id, with_for_update=True)
            assert case is not None
            if case.attempts != claim.attempt or case.state != CaseState.PENDING:
                return  # another pusher took over after our lease ran out
            dead = await record_failure(
                session, case, claim, failure, timer=timer, policy=self._policy, now=now
            )
            if case.failing_since is None and not failure.lease_lost:
                case.failing_since = timer.started_at
            extra = {"report_id": str(case.report_id), "error": failure.error}
            if dead:
                case.state = CaseState.DEAD
                # Its resident is told at once, not at the next look by the clock.
                wake_after_commit(session, DELAYS)
                logger.error("case.dead", extra=extra)
            else:
                logger.warning("case.retry", extra={**extra, "attempt": claim.attempt})
            await session.commit()


async def _take_case_id(session: AsyncSession, case: Case, crm_case_id: str) -> None:
    """Make `crm_case_id` this case's alone among its connector's cases.

    A CRM that hands out a number again (reset, restored from a backup, migrated) has lost
    the case an older report knew by it. That report's case is held for an operator, who
    can replay it to file it again; the CRM's changes of the number are the new report's.
    """
    holder = await session.scalar(
        select(Case)
        .where(
            Case.connector == case.connector,
            Case.crm_case_id == crm_case_id,
            Case.id != case.id,
        )
        .with_for_update()
    )
    if holder is None:
        return
    holder.crm_case_id = None
    holder.state = CaseState.DEAD
    holder.last_error = (
        f"The CRM gave this case's id {crm_case_id} to report {case.report_number}: "
        "it no longer has this report's case. Replay it to file it again."
    )
    holder.updated_at = utcnow()
    # Before the new holder takes the id: the id is unique per connector.
    await session.flush()
    logger.error(
        "case.crm_id_reused",
        extra={
            "report_id": str(holder.report_id),
            "crm_case_id": crm_case_id,
            "taken_by": str(case.report_id),
        },
    )
