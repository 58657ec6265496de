"""The outbox relay, on intake's outbox table and both databases."""

import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import select

from intake_service.db import OutboxEvent
from shared.contracts import Envelope, GeoPoint, ReportSubmittedV1
from shared.db import make_engine, make_sessionmaker
from shared.outbox import RELAY, OutboxRelay, add_event
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from shared.signing import Signer, Verifier
from shared.wakeup import INFO_KEY, Wakeups


def envelope(report_id: uuid.UUID) -> Envelope:
    now = dt.datetime.now(dt.UTC)
    return Envelope(
        occurred_at=now,
        source="intake",
        event=ReportSubmittedV1(
            report_id=report_id,
            number="WRO-2026-000001",
            category="pothole",
            location=GeoPoint(lat=51.1, lon=17.0),
            description="x",
            submitted_at=now,
        ),
    )


class Receiver:
    """Stands in for the receiving service; answers with the statuses it is given, in turn."""

    def __init__(self, *statuses: int, headers: dict[str, str] | None = None) -> None:
        self.statuses = list(statuses)
        self.headers = headers or {}
        self.received: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        Verifier([DEV_SECRETS["intake_to_adapter"]]).verify(
            request.content, request.headers
        )
        self.received.append(request.headers["webhook-id"])
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return httpx.Response(status, headers=self.headers)


@pytest.fixture
async def wakeups():
    return Wakeups()


@pytest.fixture
async def sessionmaker(intake_settings, wakeups):
    engine = make_engine(intake_settings.database_url)
    yield make_sessionmaker(engine, info={INFO_KEY: wakeups})
    await engine.dispose()


def relay(
    sessionmaker, receiver: Receiver, *, budget=dt.timedelta(hours=72)
) -> OutboxRelay:
    return OutboxRelay(
        sessionmaker=sessionmaker,
        model=OutboxEvent,
        client=httpx.AsyncClient(transport=httpx.MockTransport(receiver)),
        url="http://adapter/internal/events",
        signer=Signer(DEV_SECRETS["intake_to_adapter"]),
        backoff=Backoff(base=2.0, cap=1800.0, budget=budget),
    )


async def queue(sessionmaker, *events: tuple[uuid.UUID, Envelope]) -> None:
    async with sessionmaker() as session:
        for aggregate_id, env in events:
            add_event(session, OutboxEvent, env, aggregate_id=aggregate_id)
        await session.commit()


async def rows(sessionmaker) -> list[OutboxEvent]:
    async with sessionmaker() as session:
        return list(
            (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))).all()
        )


class TestWakeUp:
    async def test_commit_wakes_the_relay_and_rollback_does_not(
        self, sessionmaker, wakeups
    ):
        report = uuid.uuid4()
        async with sessionmaker() as session:
            add_event(session, OutboxEvent, envelope(report), aggregate_id=report)
            await session.rollback()
        assert not wakeups.event(RELAY).is_set()
        await queue(sessionmaker, (report, envelope(report)))
        assert wakeups.event(RELAY).is_set()


class TestRelay:
    async def test_sends_signed_and_marks_sent(self, sessionmaker):
        report = uuid.uuid4()
        env = envelope(report)
        await queue(sessionmaker, (report, env))
        receiver = Receiver(202)
        assert await relay(sessionmaker, receiver).run_once() == 1
        assert receiver.received == [str(env.id)]
        [row] = await rows(sessionmaker)
        assert (row.status, row.attempts, row.sent_at is not None) == ("sent", 1, True)
        assert await relay(sessionmaker, receiver).run_once() == 0

    async def test_a_failure_is_retried_later_honouring_retry_after(self, sessionmaker):
        report = uuid.uuid4()
        await queue(sessionmaker, (report, envelope(report)))
        before = dt.datetime.now(dt.UTC)
        await relay(
            sessionmaker, Receiver(503, headers={"Retry-After": "60"})
        ).run_once()
        [row] = await rows(sessionmaker)
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error is not None
        assert row.last_error.startswith("HTTP 503")
        assert row.next_attempt_at >= before + dt.timedelta(seconds=60)
        assert await relay(sessionmaker, Receiver(202)).run_once() == 0  # not due yet

    async def test_a_reports_later_event_waits_for_its_earlier_one(self, sessionmaker):
        first, other = uuid.uuid4(), uuid.uuid4()
        e1, e2, e3 = envelope(first), envelope(first), envelope(other)
        await queue(sessionmaker, (first, e1), (first, e2), (other, e3))
        receiver = Receiver(503, 202)
        await relay(sessionmaker, receiver).run_once()
        # e2 is not even tried while e1 of the same report is undelivered; e3 goes on.
        assert receiver.received == [str(e1.id), str(e3.id)]
        assert [r.status for r in await rows(sessionmaker)] == [
            "pending",
            "pending",
            "sent",
        ]

    async def test_an_expired_lease_is_claimed_again(self, sessionmaker):
        report = uuid.uuid4()
        await queue(sessionmaker, (report, envelope(report)))
        async with sessionmaker() as session:
            row = await session.scalar(select(OutboxEvent))
            assert row is not None
            row.status, row.attempts = "in_flight", 1
            row.lease_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            await session.commit()
        assert await relay(sessionmaker, Receiver(202)).run_once() == 1
        [row] = await rows(sessionmaker)
        assert (row.status, row.attempts) == ("sent", 2)

    async def test_after_the_budget_the_event_is_dead_not_deleted(self, sessionmaker):
        report = uuid.uuid4()
        await queue(sessionmaker, (report, envelope(report)))
        await relay(sessionmaker, Receiver(500), budget=dt.timedelta(0)).run_once()
        [row] = await rows(sessionmaker)
        assert row.status == "dead"
        assert row.last_error is not None
        assert row.last_error.startswith("HTTP 500")
