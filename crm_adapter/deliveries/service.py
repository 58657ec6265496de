"""Recording delivery attempts, budgets, and the operators' view of deliveries (the
connectors' breakers are `crm_adapter.deliveries.connectors`)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.exceptions import CaseNotFound
from crm_adapter.cases.models import ActionState, Case, CaseAction, CaseState
from crm_adapter.cases.service import FORWARDER, PUSHER
from crm_adapter.deliveries import breaker, queue, repository
from crm_adapter.deliveries.delays import tell_moving
from crm_adapter.deliveries.exceptions import (
    DeliveryNotDead,
    DeliveryNotFound,
    EmptyDeadWindow,
    ReplayFilterMissing,
)
from crm_adapter.deliveries.models import (
    DeliveryAttempt,
    DeliveryKind,
    Outcome,
)
from crm_adapter.deliveries.schemas import (
    AttemptRead,
    BulkReplay,
    BulkReplayResult,
    CaseDeliveries,
    DeliveryDetail,
    DeliveryPage,
    DeliveryRead,
    DeliveryState,
)
from crm_adapter.operators import audit
from shared.db import utcnow
from shared.operators import Operator
from shared.pagination import PageKey, decode_cursor, encode_cursor
from shared.wakeup import wake_after_commit


@dataclass
class Timer:
    """When an attempt started, and for how long it has run."""

    started_at: dt.datetime = field(default_factory=utcnow)
    _start: float = field(default_factory=time.monotonic)

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self._start) * 1000)


def log_attempt(
    session: AsyncSession,
    *,
    delivery_id: uuid.UUID,
    case_id: uuid.UUID,
    kind: str,
    connector: str,
    attempt: int,
    timer: Timer,
    outcome: Outcome,
    http_status: int | None = None,
    error: str | None = None,
) -> None:
    """Add the attempt to the delivery log, in the caller's transaction."""
    session.add(
        DeliveryAttempt(
            delivery_id=delivery_id,
            case_id=case_id,
            kind=kind,
            connector=connector,
            attempt=attempt,
            started_at=timer.started_at,
            duration_ms=timer.elapsed_ms(),
            outcome=outcome,
            http_status=http_status,
            error=error[:2048] if error else None,
        )
    )


def budget_spent(
    row: Case | CaseAction, *, budget: dt.timedelta, now: dt.datetime
) -> bool:
    return now - (row.retry_since or row.created_at) > budget


async def resume_budgets(
    session: AsyncSession, connector: str, *, paused: dt.timedelta, now: dt.datetime
) -> None:
    """The connector's breaker was open for `paused`: that time does not count against the
    budgets of its waiting deliveries."""
    # Rows another transaction holds are skipped: that one waits for the breaker row this
    # transaction holds.
    cases, actions = await queue.pending_of(session, connector)
    for case in cases:
        case.retry_since = min(now, (case.retry_since or case.created_at) + paused)
    for action in actions:
        action.retry_since = min(
            now, (action.retry_since or action.created_at) + paused
        )


async def crm_answered(
    session: AsyncSession, connector: str, *, now: dt.datetime
) -> None:
    """The CRM answered (took the request, or refused it for what it is): it is up, so its
    breaker closes, and the time it was open is given back to the waiting deliveries."""
    paused = await breaker.record_success(session, connector, now=now)
    if paused is not None:
        await resume_budgets(session, connector, paused=paused, now=now)


def _read(row: Row[tuple[Any, ...]]) -> DeliveryRead:
    fields = dict(row._mapping)
    fields.pop("seq")
    if fields["state"] != DeliveryState.PENDING:
        fields["next_attempt_at"] = None
    return DeliveryRead.model_validate(fields)


async def _detailed(
    session: AsyncSession, rows: Sequence[Row[tuple[Any, ...]]]
) -> list[DeliveryDetail]:
    reads = [_read(row) for row in rows]
    logs = await repository.attempts(session, [r.id for r in reads])
    return [
        DeliveryDetail(
            **read.model_dump(),
            log=[AttemptRead.model_validate(a) for a in logs[read.id]],
        )
        for read in reads
    ]


async def list_deliveries(
    session: AsyncSession,
    *,
    state: DeliveryState | None,
    kind: DeliveryKind | None,
    connector: str | None,
    cursor: str | None,
    limit: int,
) -> DeliveryPage:
    rows = await repository.page(
        session,
        state=state,
        kind=kind,
        connector=connector,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    items = [_read(row) for row in rows[:limit]]
    next_cursor = (
        encode_cursor(PageKey(items[-1].created_at, items[-1].id))
        if len(rows) > limit
        else None
    )
    return DeliveryPage(items=items, next_cursor=next_cursor)


async def get_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> DeliveryDetail:
    row = await repository.one(session, delivery_id)
    if row is None:
        raise DeliveryNotFound()
    return (await _detailed(session, [row]))[0]


async def case_deliveries(session: AsyncSession, case_id: uuid.UUID) -> CaseDeliveries:
    case = await repository.case_by_id_or_report(session, case_id)
    if case is None:
        raise CaseNotFound()
    rows = await repository.of_case(session, case.id)
    return CaseDeliveries(
        case_id=case.id,
        report_id=case.report_id,
        deliveries=await _detailed(session, rows),
    )


async def replay(
    session: AsyncSession,
    operator: Operator,
    delivery_id: uuid.UUID,
    *,
    reason: str | None,
) -> DeliveryDetail:
    """Put a dead delivery back to pending, due now, with a fresh retry budget.

    It keeps its idempotency: a creation looks the case up by external reference before
    creating it (its `last_error` stays until it succeeds, which makes the pusher look), and
    an action goes with its own id as the CRM's idempotency key. A creation's resident,
    told it had stopped, is told it moves again (`crm_adapter.deliveries.delays`).
    """
    now = utcnow()
    row = await repository.delivery_to_replay(session, delivery_id)
    if row is None:
        raise DeliveryNotFound()
    if isinstance(row, Case):
        kind, dead = DeliveryKind.CREATE, row.state == CaseState.DEAD
        if dead:
            row.state = CaseState.PENDING
            # Its resident no longer sees it stopped, from this commit on.
            tell_moving(session, row, now=now)
        wake_after_commit(session, PUSHER)
    else:
        kind, dead = DeliveryKind(row.kind), row.state == ActionState.DEAD
        if dead:
            row.state = ActionState.PENDING
        wake_after_commit(session, FORWARDER)
    if not dead:
        state = DeliveryState.DONE if row.state in ("created", "done") else row.state
        raise DeliveryNotDead(state=state)
    _revive(row, now)
    entry = audit.record(
        session,
        operator,
        action="delivery.replay",
        target_type="delivery",
        target_id=delivery_id,
        details={"kind": kind, "reason": reason},
    )
    await audit.commit(session, entry)
    return await get_delivery(session, delivery_id)


def _revive(row: Case | CaseAction, now: dt.datetime) -> None:
    """A dead delivery (its state already pending) due now, its attempts and budget anew."""
    row.attempts = 0
    row.next_attempt_at = now
    row.retry_since = now
    row.updated_at = now


async def _revive_dead(
    session: AsyncSession,
    found: Sequence[tuple[uuid.UUID, str]],
    now: dt.datetime,
) -> set[uuid.UUID]:
    """Queue again those of the deliveries `found` that are still dead; their ids."""
    creations = [i for i, kind in found if kind == DeliveryKind.CREATE]
    actions = [i for i, kind in found if kind != DeliveryKind.CREATE]
    replayed: set[uuid.UUID] = set()
    if creations:
        for case in await repository.dead_cases(session, creations):
            case.state = CaseState.PENDING
            tell_moving(session, case, now=now)
            _revive(case, now)
            replayed.add(case.id)
        wake_after_commit(session, PUSHER)
    if actions:
        for action in await repository.dead_actions(session, actions):
            action.state = ActionState.PENDING
            _revive(action, now)
            replayed.add(action.id)
        wake_after_commit(session, FORWARDER)
    return replayed


async def replay_many(
    session: AsyncSession, operator: Operator, selection: BulkReplay
) -> BulkReplayResult:
    """Replay, as `replay` does each, the dead deliveries the selection matches, oldest
    first, at most `selection.limit` of them."""
    filters = selection.model_dump(
        mode="json", exclude={"limit", "reason"}, exclude_none=True
    )
    if not filters:
        raise ReplayFilterMissing()
    since, until = selection.dead_since, selection.dead_until
    if since is not None and until is not None and since >= until:
        raise EmptyDeadWindow()
    now = utcnow()
    found = await repository.dead(
        session,
        report_id=selection.report_id,
        connector=selection.connector,
        kind=selection.kind,
        since=since,
        until=until,
        limit=selection.limit + 1,
    )
    more = len(found) > selection.limit
    found = found[: selection.limit]
    replayed = await _revive_dead(session, found, now)
    ids = [i for i, _ in found if i in replayed]
    entry = audit.record(
        session,
        operator,
        action="delivery.replay_many",
        target_type="delivery",
        details={
            "filter": filters,
            "replayed": len(ids),
            "more": more,
            "reason": selection.reason,
        },
    )
    await audit.commit(session, entry)
    return BulkReplayResult(replayed=len(ids), more=more, ids=ids)
