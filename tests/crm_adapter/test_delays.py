"""Residents are told when their report's case is held up on its way into the CRM: failing
for longer than the notice period (with or without attempts, under an open breaker), or
dead; told once per state, and told it is over when the case is created or replayed."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import select, update

from crm_adapter.cases.models import Case
from crm_adapter.db import OutboxEvent
from crm_adapter.deliveries.delays import DelayTeller, check_every
from shared.contracts import Envelope, ReportDeliveryDelayedV1, ReportStatusChangedV1
from shared.db import utcnow
from tests.crm_adapter.deliveries import case_of, delivery, faults, pusher
from tests.crm_adapter.helpers import open_case
from tests.helpers import MANAGE, READ

pytestmark = pytest.mark.usefixtures("close_clients")

NOTICE = dt.timedelta(minutes=30)
UNAVAILABLE = {"kind": "error", "status": 503, "operations": ["create"]}
REFUSED = {"kind": "error", "status": 422, "count": 1, "operations": ["create"]}


def teller(sessionmaker) -> DelayTeller:
    return DelayTeller(sessionmaker=sessionmaker, notice_after=NOTICE)


async def sent(sessionmaker, report_id: uuid.UUID) -> list[object]:
    """What the adapter's outbox holds for intake about the report, in order."""
    async with sessionmaker() as session:
        payloads = (
            await session.scalars(
                select(OutboxEvent.payload)
                .where(OutboxEvent.aggregate_id == report_id)
                .order_by(OutboxEvent.seq)
            )
        ).all()
    return [Envelope.model_validate_json(p).event for p in payloads]


async def delays_told(sessionmaker, report_id: uuid.UUID) -> list[tuple[bool, bool]]:
    """(delayed, dead) of each delay event sent about the report."""
    return [
        (e.delayed, e.dead)
        for e in await sent(sessionmaker, report_id)
        if isinstance(e, ReportDeliveryDelayedV1)
    ]


async def due_now(sessionmaker, report_id: uuid.UUID) -> None:
    """The case is due now, by the clock in use, rather than after its backoff."""
    async with sessionmaker() as session:
        await session.execute(
            update(Case)
            .where(Case.report_id == report_id)
            .values(next_attempt_at=utcnow())
        )
        await session.commit()


async def shown_to_operators(adapter, report_id: uuid.UUID) -> str | None:
    response = await adapter.get(f"/admin/cases/{report_id}", headers=READ)
    assert response.status_code == 200, response.text
    delay: str | None = response.json()["delay"]
    return delay


class TestFailing:
    async def test_told_once_after_the_notice_period_and_over_once_created(
        self, adapter, crm, sessionmaker, clock
    ):
        report_id = await open_case(adapter)
        await faults(crm, UNAVAILABLE)
        await pusher(sessionmaker, crm).run_once()
        failed_at = (await case_of(sessionmaker, report_id)).failing_since
        assert failed_at is not None

        # Not yet: the CRM has failed for less than the notice period.
        clock.advance(NOTICE - dt.timedelta(minutes=1))
        assert await teller(sessionmaker).run_once() == 0
        assert await delays_told(sessionmaker, report_id) == []

        clock.advance(dt.timedelta(minutes=2))
        assert await teller(sessionmaker).run_once() == 1
        [event] = [
            e
            for e in await sent(sessionmaker, report_id)
            if isinstance(e, ReportDeliveryDelayedV1)
        ]
        assert (event.report_id, event.delayed, event.dead) == (report_id, True, False)
        assert event.since == failed_at
        assert event.as_of > failed_at + NOTICE
        assert await shown_to_operators(adapter, report_id) == "delayed"

        # Once: a later look, or another worker's, tells nothing more.
        clock.advance(dt.timedelta(hours=2))
        assert await teller(sessionmaker).run_once() == 0
        assert await teller(sessionmaker).run_once() == 0

        await faults(crm)
        await due_now(sessionmaker, report_id)
        await pusher(sessionmaker, crm).run_once()
        assert (await case_of(sessionmaker, report_id)).state == "created"
        events = await sent(sessionmaker, report_id)
        assert [type(e) for e in events] == [
            ReportDeliveryDelayedV1,
            ReportStatusChangedV1,
            ReportDeliveryDelayedV1,
        ]
        assert (events[2].delayed, events[2].since) == (False, None)  # type: ignore[attr-defined]
        assert await shown_to_operators(adapter, report_id) is None
        assert (await case_of(sessionmaker, report_id)).failing_since is None

    async def test_a_case_created_before_the_notice_period_is_never_told(
        self, adapter, crm, sessionmaker, clock
    ):
        report_id = await open_case(adapter)
        await faults(crm, UNAVAILABLE)
        await pusher(sessionmaker, crm).run_once()
        await faults(crm)
        await due_now(sessionmaker, report_id)
        await pusher(sessionmaker, crm).run_once()
        clock.advance(NOTICE * 2)
        assert await teller(sessionmaker).run_once() == 0
        assert await delays_told(sessionmaker, report_id) == []

    async def test_two_workers_tell_each_case_once(
        self, adapter, crm, sessionmaker, clock
    ):
        report_ids = [await open_case(adapter) for _ in range(6)]
        await faults(crm, UNAVAILABLE)
        await pusher(sessionmaker, crm).run_once()
        clock.advance(NOTICE * 2)
        told = await asyncio.gather(
            teller(sessionmaker).run_once(), teller(sessionmaker).run_once()
        )
        assert sum(told) == 6
        for report_id in report_ids:
            assert await delays_told(sessionmaker, report_id) == [(True, False)]


class TestBreakerOpen:
    async def test_a_case_never_tried_while_the_breaker_is_open_is_told_too(
        self, adapter, crm, sessionmaker, clock
    ):
        tripped = await adapter.post(
            "/admin/connectors/rest_json/trip",
            json={"reason": "CRM maintenance"},
            headers=MANAGE,
        )
        assert tripped.status_code == 200, tripped.text
        report_id = await open_case(adapter)
        queued_at = (await case_of(sessionmaker, report_id)).next_attempt_at

        clock.advance(NOTICE + dt.timedelta(minutes=1))
        # Nothing is tried while the breaker is open ...
        assert await pusher(sessionmaker, crm).run_once() == 0
        case = await case_of(sessionmaker, report_id)
        assert (await delivery(adapter, case.id))["log"] == []
        # ... and yet the resident is told, from when the case was held back.
        assert await teller(sessionmaker).run_once() == 1
        [event] = [
            e
            for e in await sent(sessionmaker, report_id)
            if isinstance(e, ReportDeliveryDelayedV1)
        ]
        assert (event.delayed, event.dead, event.since) == (True, False, queued_at)

    async def test_failed_cases_keep_growing_late_while_no_attempt_is_made(
        self, adapter, crm, sessionmaker, clock
    ):
        report_ids = [await open_case(adapter) for _ in range(3)]
        await faults(crm, UNAVAILABLE)
        # Three failures open the tests' breaker; the cases wait for it.
        await pusher(sessionmaker, crm).run_once()
        clock.advance(NOTICE + dt.timedelta(minutes=1))
        assert await teller(sessionmaker).run_once() == 3
        for report_id in report_ids:
            assert await delays_told(sessionmaker, report_id) == [(True, False)]
            case = await case_of(sessionmaker, report_id)
            assert case.attempts == 1


class TestDead:
    async def test_told_at_once_and_a_replay_ends_it_before_the_case_is_created(
        self, adapter, crm, sessionmaker
    ):
        report_id = await open_case(adapter)
        await faults(crm, REFUSED)
        await pusher(sessionmaker, crm).run_once()
        case = await case_of(sessionmaker, report_id)
        assert case.state == "dead"
        assert await teller(sessionmaker).run_once() == 1
        [event] = [
            e
            for e in await sent(sessionmaker, report_id)
            if isinstance(e, ReportDeliveryDelayedV1)
        ]
        assert (event.delayed, event.dead, event.since) == (
            True,
            True,
            case.failing_since,
        )
        assert await shown_to_operators(adapter, report_id) == "dead"
        assert await teller(sessionmaker).run_once() == 0

        replayed = await adapter.post(
            f"/admin/deliveries/{case.id}/replay",
            json={"reason": "CRM category list fixed"},
            headers=MANAGE,
        )
        assert replayed.status_code == 200, replayed.text
        # At once, in the replay's transaction: nothing was pushed yet.
        assert await delays_told(sessionmaker, report_id) == [
            (True, True),
            (False, False),
        ]
        assert await shown_to_operators(adapter, report_id) is None

        await pusher(sessionmaker, crm).run_once()
        assert (await case_of(sessionmaker, report_id)).state == "created"
        events = await sent(sessionmaker, report_id)
        assert isinstance(events[-1], ReportStatusChangedV1)
        assert await delays_told(sessionmaker, report_id) == [
            (True, True),
            (False, False),
        ]

    async def test_a_replay_failing_again_is_told_again_after_the_notice(
        self, adapter, crm, sessionmaker, clock
    ):
        report_id = await open_case(adapter)
        await faults(crm, REFUSED)
        await pusher(sessionmaker, crm).run_once()
        await teller(sessionmaker).run_once()
        case = await case_of(sessionmaker, report_id)
        selection = {"report_id": str(report_id), "reason": "try again"}
        replayed = await adapter.post(
            "/admin/deliveries/replay", json=selection, headers=MANAGE
        )
        assert replayed.json()["replayed"] == 1

        await faults(crm, UNAVAILABLE)
        await pusher(sessionmaker, crm).run_once()
        retried = await case_of(sessionmaker, report_id)
        assert retried.failing_since is not None
        assert case.failing_since is not None
        assert retried.failing_since > case.failing_since  # counted from the replay on
        assert await teller(sessionmaker).run_once() == 0
        clock.advance(NOTICE + dt.timedelta(minutes=1))
        assert await teller(sessionmaker).run_once() == 1
        assert await delays_told(sessionmaker, report_id) == [
            (True, True),
            (False, False),
            (True, False),
        ]


def test_the_loop_looks_often_enough_for_the_notice_period():
    assert check_every(dt.timedelta(minutes=30), 2.0) == 60.0
    assert check_every(dt.timedelta(minutes=5), 2.0) == 30.0
    assert check_every(dt.timedelta(seconds=1), 0.2) == 0.2
