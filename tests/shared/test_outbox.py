"""The outbox relay, on intake's outbox table and both databases."""

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import select

from intake_service.db import OutboxEvent
from shared.contracts import Envelope, GeoPoint, ReportSubmittedV1
from shared.db import make_engine, make_sessionmaker
from shared.outbox import RELAY, add_event
from shared.relay import OutboxRelay
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from shared.signing import Signer, Verifier
from shared.wakeup import INFO_KEY, Wakeups
from tests.helpers import eventually


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
async def waking_sessionmaker(intake_settings, wakeups):
    """Sessions on intake's database whose commits of outbox events wake the relay through
    `wakeups`."""
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
        self, waking_sessionmaker, wakeups
    ):
        report = uuid.uuid4()
        async with waking_sessionmaker() as session:
            add_event(session, OutboxEvent, envelope(report), aggregate_id=report)
            await session.rollback()
        assert not wakeups.event(RELAY).is_set()
        await queue(waking_sessionmaker, (report, envelope(report)))
        assert wakeups.event(RELAY).is_set()

    async def test_sending_an_event_another_waits_behind_wakes_the_relay(
        self, waking_sessionmaker, wakeups
    ):
        """The relay looks again only when woken unless it took a whole batch: an event
        held back behind its aggregate's earlier one must not wait for the next poll."""
        report, other = uuid.uuid4(), uuid.uuid4()
        await queue(
            waking_sessionmaker,
            (report, envelope(report)),
            (report, envelope(report)),
            (other, envelope(other)),
        )
        receiver = Receiver(202)
        sender = relay(waking_sessionmaker, receiver)
        wakeup = wakeups.event(RELAY)
        wakeup.clear()
        assert await sender.run_once() == 2  # the report's first event, and the other's
        assert wakeup.is_set()  # the report's second event is due now
        wakeup.clear()
        assert await sender.run_once() == 1
        assert not wakeup.is_set()  # nothing waits behind it
        assert [row.status for row in await rows(waking_sessionmaker)] == ["sent"] * 3


class TestRelay:
    async def test_sends_signed_and_marks_sent(self, waking_sessionmaker):
        report = uuid.uuid4()
        env = envelope(report)
        await queue(waking_sessionmaker, (report, env))
        receiver = Receiver(202)
        assert await relay(waking_sessionmaker, receiver).run_once() == 1
        assert receiver.received == [str(env.id)]
        [row] = await rows(waking_sessionmaker)
        assert (row.status, row.attempts, row.sent_at is not None) == ("sent", 1, True)
        assert await relay(waking_sessionmaker, receiver).run_once() == 0

    async def test_a_failure_is_retried_later_honouring_retry_after(
        self, waking_sessionmaker
    ):
        report = uuid.uuid4()
        await queue(waking_sessionmaker, (report, envelope(report)))
        before = dt.datetime.now(dt.UTC)
        await relay(
            waking_sessionmaker, Receiver(503, headers={"Retry-After": "60"})
        ).run_once()
        [row] = await rows(waking_sessionmaker)
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error is not None
        assert row.last_error.startswith("HTTP 503")
        assert row.next_attempt_at >= before + dt.timedelta(seconds=60)
        assert (
            await relay(waking_sessionmaker, Receiver(202)).run_once() == 0
        )  # not due yet

    async def test_a_reports_later_event_waits_for_its_earlier_one(
        self, waking_sessionmaker
    ):
        first, other = uuid.uuid4(), uuid.uuid4()
        e1, e2, e3 = envelope(first), envelope(first), envelope(other)
        await queue(waking_sessionmaker, (first, e1), (first, e2), (other, e3))
        receiver = Receiver(503, 202)
        await relay(waking_sessionmaker, receiver).run_once()
        # e2 is not even tried while e1 of the same report is undelivered; e3 goes on.
        assert receiver.received == [str(e1.id), str(e3.id)]
        assert [r.status for r in await rows(waking_sessionmaker)] == [
            "pending",
            "pending",
            "sent",
        ]

    async def test_an_expired_lease_is_claimed_again(self, waking_sessionmaker):
        report = uuid.uuid4()
        await queue(waking_sessionmaker, (report, envelope(report)))
        async with waking_sessionmaker() as session:
            row = await session.scalar(select(OutboxEvent))
            assert row is not None
            row.status, row.attempts = "in_flight", 1
            row.lease_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            await session.commit()
        assert await relay(waking_sessionmaker, Receiver(202)).run_once() == 1
        [row] = await rows(waking_sessionmaker)
        assert (row.status, row.attempts) == ("sent", 2)

    async def test_after_the_budget_the_event_is_dead_not_deleted(
        self, waking_sessionmaker
    ):
        report = uuid.uuid4()
        await queue(waking_sessionmaker, (report, envelope(report)))
        await relay(
            waking_sessionmaker, Receiver(500), budget=dt.timedelta(0)
        ).run_once()
        [row] = await rows(waking_sessionmaker)
        assert row.status == "dead"
        assert row.last_error is not None
        assert row.last_error.startswith("HTTP 500")


class Outage:
    """A receiver that refuses connections while `down`, then answers as `receiver` does."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.down = True
        self.refused = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return self.receiver(request)


def relay_to(handler, **options) -> OutboxRelay:
    return OutboxRelay(
        sessionmaker=options.pop("sessionmaker"),
        model=OutboxEvent,
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        url="http://adapter/internal/events",
        signer=Signer(DEV_SECRETS["intake_to_adapter"]),
        backoff=options.pop("backoff", Backoff(base=60.0, cap=1800.0)),
        **options,
    )


@pytest.fixture
def longest_backoff(monkeypatch):
    """Every backoff is as long as its ceiling: a row is not due early by chance."""
    monkeypatch.setattr("shared.retry.random.uniform", lambda low, high: high)


class TestReceiverBack:
    async def test_after_an_outage_the_backed_off_events_go_at_once(
        self, waking_sessionmaker, clock, longest_backoff
    ):
        first, other = uuid.uuid4(), uuid.uuid4()
        events = [(first, envelope(first)), (first, envelope(first))]
        events += [(uuid.uuid4(), envelope(r)) for r in [uuid.uuid4()] * 3]
        events.append((other, envelope(other)))
        await queue(waking_sessionmaker, *events)
        adapter = Outage(Receiver(202))
        relay = relay_to(
            adapter,
            sessionmaker=waking_sessionmaker,
            probe_every=dt.timedelta(seconds=1),
        )

        assert await relay.run_once() == 5  # all but the report's second event
        assert relay.receiver_down
        waiting = await rows(waking_sessionmaker)
        assert {r.status for r in waiting} == {"pending"}
        assert all(
            r.last_error and r.last_error.startswith("unavailable: ConnectError")
            for r in waiting
            if r.attempts
        )
        # Backed off by a minute; while the receiver is down one event is tried a second.
        assert await relay.run_once() == 0
        clock.advance(dt.timedelta(seconds=1))
        assert await relay.run_once() == 1
        assert adapter.refused == 6

        adapter.down = False
        clock.advance(dt.timedelta(seconds=1))
        assert await relay.run_once() == 1  # the probe is taken...
        assert not relay.receiver_down
        # ... and the others go now, not when their minute is up.
        assert await relay.run_once() == 4
        assert await relay.run_once() == 1  # the report's second event, after its first
        assert {r.status for r in await rows(waking_sessionmaker)} == {"sent"}
        received = adapter.receiver.received
        assert received.index(str(events[0][1].id)) < received.index(
            str(events[1][1].id)
        )

    async def test_the_first_answer_wakes_the_relays(
        self, waking_sessionmaker, wakeups, clock, longest_backoff
    ):
        reports = [uuid.uuid4() for _ in range(3)]
        await queue(waking_sessionmaker, *[(r, envelope(r)) for r in reports])
        adapter = Outage(Receiver(202))
        relay = relay_to(adapter, sessionmaker=waking_sessionmaker)
        assert await relay.run_once() == 3
        wakeups.event(RELAY).clear()
        adapter.down = False
        clock.advance(dt.timedelta(seconds=1))
        assert await relay.run_once() == 1
        assert wakeups.event(RELAY).is_set()

    async def test_while_down_the_relay_loop_is_woken_for_each_probe(
        self, waking_sessionmaker, longest_backoff
    ):
        reports = [uuid.uuid4() for _ in range(2)]
        await queue(waking_sessionmaker, *[(r, envelope(r)) for r in reports])
        adapter = Outage(Receiver(202))
        woken = asyncio.Event()
        relay = relay_to(
            adapter,
            sessionmaker=waking_sessionmaker,
            probe_every=dt.timedelta(seconds=0.1),
            wakeup=woken,
        )
        assert await relay.run_once() == 2
        await asyncio.wait_for(woken.wait(), 5)  # well before the poll interval
        assert await relay.run_once() == 1
        assert adapter.refused == 3

    async def test_refusals_and_retry_after_keep_their_backoff(
        self, waking_sessionmaker, clock, longest_backoff
    ):
        refused, throttled = uuid.uuid4(), uuid.uuid4()
        answers: dict[str, httpx.Response] = {}

        def receiver(request: httpx.Request) -> httpx.Response:
            event_id = request.headers["webhook-id"]
            if event_id in answers:
                return answers[event_id]
            return outage(request)

        outage = Outage(Receiver(202))
        relay = relay_to(receiver, sessionmaker=waking_sessionmaker)
        for report, answer in [
            (refused, httpx.Response(422)),
            (throttled, httpx.Response(503, headers={"Retry-After": "600"})),
        ]:
            env = envelope(report)
            answers[str(env.id)] = answer
            await queue(waking_sessionmaker, (report, env))
            assert await relay.run_once() == 1
        down = [uuid.uuid4() for _ in range(3)]
        await queue(waking_sessionmaker, *[(r, envelope(r)) for r in down])
        assert await relay.run_once() == 3
        assert relay.receiver_down

        outage.down = False
        clock.advance(dt.timedelta(seconds=1))
        assert await relay.run_once() == 1
        assert await relay.run_once() == 2
        by_report = {r.aggregate_id: r for r in await rows(waking_sessionmaker)}
        for report in down:
            assert by_report[report].status == "sent"
        for report, error in [(refused, "HTTP 422"), (throttled, "HTTP 503")]:
            row = by_report[report]
            assert (row.status, row.attempts) == ("pending", 1)
            assert row.last_error is not None
            assert row.last_error.startswith(error)
        assert await relay.run_once() == 0

    async def test_a_single_unavailable_answer_is_not_an_outage(
        self, waking_sessionmaker, clock, longest_backoff
    ):
        first, report, later, after_restart = (uuid.uuid4() for _ in range(4))
        receiver = Receiver(202, 503, 202)
        relay = relay_to(receiver, sessionmaker=waking_sessionmaker)
        await queue(waking_sessionmaker, (first, envelope(first)))
        assert await relay.run_once() == 1
        await queue(waking_sessionmaker, (report, envelope(report)))
        assert await relay.run_once() == 1
        row = {r.aggregate_id: r for r in await rows(waking_sessionmaker)}[report]
        assert row.last_error is not None
        assert row.last_error.startswith("unavailable: HTTP 503")
        assert not relay.receiver_down
        clock.advance(dt.timedelta(seconds=5))
        assert await relay.run_once() == 0  # no probe: it waits out its backoff
        await queue(waking_sessionmaker, (later, envelope(later)))
        assert await relay.run_once() == 1
        assert await relay.run_once() == 0  # and the next event taken changes nothing

        # A relay that starts does not know what its predecessor saw: the first event it
        # gets taken makes the events backed off for an unavailable receiver due.
        fresh = relay_to(Receiver(202), sessionmaker=waking_sessionmaker)
        await queue(waking_sessionmaker, (after_restart, envelope(after_restart)))
        assert await fresh.run_once() == 1
        assert await fresh.run_once() == 1
        assert {r.status for r in await rows(waking_sessionmaker)} == {"sent"}

    async def test_an_unreachable_receiver_still_ends_in_dead_after_the_budget(
        self, waking_sessionmaker
    ):
        report = uuid.uuid4()
        await queue(waking_sessionmaker, (report, envelope(report)))
        relay = relay_to(
            Outage(Receiver(202)),
            sessionmaker=waking_sessionmaker,
            backoff=Backoff(budget=dt.timedelta(0)),
        )
        await relay.run_once()
        [row] = await rows(waking_sessionmaker)
        assert row.status == "dead"
        assert row.last_error is not None
        assert row.last_error.startswith("unavailable: ConnectError")


class TestShortLease:
    async def test_a_send_under_way_keeps_its_row_and_may_outlast_the_lease(
        self, waking_sessionmaker
    ):
        report = uuid.uuid4()
        await queue(waking_sessionmaker, (report, envelope(report)))
        entered, release = asyncio.Event(), asyncio.Event()

        async def slow(request: httpx.Request) -> httpx.Response:
            entered.set()
            await release.wait()
            return httpx.Response(202)

        lease = dt.timedelta(seconds=1)
        sending = asyncio.create_task(
            relay_to(
                slow, sessionmaker=waking_sessionmaker, lease=lease, attempt_timeout=30
            ).run_once()
        )
        await asyncio.wait_for(entered.wait(), 10)

        async def lease_until() -> dt.datetime:
            [row] = await rows(waking_sessionmaker)
            assert row.lease_until is not None
            return row.lease_until

        async def renewed_after(before: dt.datetime) -> None:
            async def moved() -> bool:
                return await lease_until() > before

            await eventually(moved, what="the lease renewed")

        claimed_until = await lease_until()
        await renewed_after(claimed_until)
        other = relay_to(Receiver(202), sessionmaker=waking_sessionmaker, lease=lease)
        assert await other.run_once() == 0  # not taken over while it is renewed
        # Still renewed once the lease it was claimed under is long over.
        await renewed_after(claimed_until + lease)
        release.set()
        assert await sending == 1
        [row] = await rows(waking_sessionmaker)
        assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)

    async def test_the_rows_of_a_relay_that_died_go_out_after_the_lease(
        self, waking_sessionmaker, intake_settings, clock
    ):
        report = uuid.uuid4()
        await queue(waking_sessionmaker, (report, envelope(report)))
        lease = dt.timedelta(seconds=intake_settings.relay_lease_seconds)
        assert lease <= dt.timedelta(seconds=10)
        dead = relay_to(Receiver(202), sessionmaker=waking_sessionmaker, lease=lease)
        [claim] = await dead._claim()  # and dies before it sends
        receiver = Receiver(202)
        other = relay_to(receiver, sessionmaker=waking_sessionmaker, lease=lease)
        assert await other.run_once() == 0
        clock.advance(lease)
        assert await other.run_once() == 1
        assert receiver.received == [str(claim.id)]
        # The dead relay's claim is not renewed by mistake should it come back.
        assert await dead._renew(claim) is False
        [row] = await rows(waking_sessionmaker)
        assert (row.status, row.attempts) == ("sent", 2)
