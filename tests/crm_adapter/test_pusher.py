import asyncio
import contextlib
import datetime as dt

import httpx
import pytest
from sqlalchemy import select

from crm_adapter.cases.models import Case
from crm_adapter.db import OutboxEvent
from crm_adapter.deliveries.attempts import renew_claim
from devtools.crm_simulator.app import create_app as create_simulator_app
from devtools.crm_simulator.config import Settings as SimulatorSettings
from shared.background import LoopGroup
from shared.contracts import Envelope, ReportStatusChangedV1
from tests.crm_adapter.fake_crm import (
    Answer,
    Held,
    LoseResponses,
    NeverAnswers,
    Throttled,
)
from tests.crm_adapter.helpers import crm_cases, open_case, pusher
from tests.helpers import eventually


def create_simulator():
    """A CRM simulator of its own, numbering its cases from CRM-000001."""
    return create_simulator_app(SimulatorSettings())


async def the_case(sessionmaker, report_id) -> Case:
    async with sessionmaker() as session:
        case = await session.scalar(select(Case).where(Case.report_id == report_id))
        assert case is not None
        return case


class Recording(httpx.AsyncBaseTransport):
    """The CRM as it is, keeping each request it gets."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


class TestPushPending:
    async def test_the_create_carries_the_report_id_as_its_idempotency_key(
        self, adapter, crm_simulator_app, sessionmaker
    ):
        report_id = await open_case(adapter)
        crm = Recording(httpx.ASGITransport(app=crm_simulator_app))
        await pusher(sessionmaker, crm).run_once()
        [create] = [r for r in crm.requests if r.method == "POST"]
        assert create.headers["idempotency-key"] == str(report_id)

    async def test_creates_the_case_and_tells_intake_it_is_submitted(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        report_id = await open_case(adapter)
        assert (
            await pusher(
                sessionmaker, httpx.ASGITransport(app=crm_simulator_app)
            ).run_once()
            == 1
        )

        cases = (
            await crm_simulator.get(
                "/api/cases", params={"external_ref": str(report_id)}
            )
        ).json()
        assert [(c["unit"], c["category"], c["status"]) for c in cases] == [
            ("zdium", "pothole", "NEW")
        ]
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.crm_case_id, case.status) == (
            "created",
            cases[0]["case_id"],
            "submitted",
        )
        async with sessionmaker() as session:
            event = Envelope.model_validate_json(
                (await session.scalar(select(OutboxEvent.payload))) or ""
            )
        assert isinstance(event.event, ReportStatusChangedV1)
        assert (event.event.status, event.event.unit, event.event.sequence) == (
            "submitted",
            "zdium",
            1,
        )

    async def test_a_lost_answer_does_not_create_a_second_case(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        report_id = await open_case(adapter)
        flaky = LoseResponses(httpx.ASGITransport(app=crm_simulator_app), lose=1)
        push = pusher(sessionmaker, flaky)
        await push.run_once()  # the CRM created the case, we never heard
        assert (await the_case(sessionmaker, report_id)).state == "pending"
        async with sessionmaker() as session:
            case = await session.scalar(select(Case).where(Case.report_id == report_id))
            assert case is not None
            case.next_attempt_at = dt.datetime.now(
                dt.UTC
            )  # due now rather than after backoff
            await session.commit()
        await push.run_once()

        cases = (
            await crm_simulator.get(
                "/api/cases", params={"external_ref": str(report_id)}
            )
        ).json()
        assert len(cases) == 1
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.crm_case_id, case.attempts) == (
            "created",
            cases[0]["case_id"],
            2,
        )

    async def test_a_case_id_handed_out_again_is_the_new_reports_alone(
        self, adapter, sessionmaker
    ):
        # The CRM is reset between the two reports (a restart, a restore from a backup):
        # it numbers the second report's case as it numbered the first's.
        first = await open_case(adapter)
        await pusher(
            sessionmaker, httpx.ASGITransport(app=create_simulator())
        ).run_once()
        second = await open_case(adapter)
        await pusher(
            sessionmaker, httpx.ASGITransport(app=create_simulator())
        ).run_once()

        old, new = (
            await the_case(sessionmaker, first),
            await the_case(sessionmaker, second),
        )
        assert (new.state, new.crm_case_id) == ("created", "CRM-000001")
        # The first report's case is gone from the CRM: held for an operator to replay.
        assert (old.state, old.crm_case_id) == ("dead", None)
        assert old.last_error is not None
        assert "CRM-000001" in old.last_error
        assert new.report_number in old.last_error

    async def test_an_unavailable_crm_is_retried_later(self, adapter, sessionmaker):
        report_id = await open_case(adapter)
        await pusher(sessionmaker, Answer(503)).run_once()
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.attempts) == ("pending", 1)
        assert case.last_error is not None
        assert "503" in case.last_error

    @pytest.mark.parametrize("status", [400, 404, 410, 413, 422])
    async def test_a_refusal_of_our_request_is_held_for_an_operator(
        self, adapter, sessionmaker, status
    ):
        report_id = await open_case(adapter)
        await pusher(sessionmaker, Answer(status)).run_once()
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.attempts) == ("dead", 1)
        assert case.last_error is not None
        assert str(status) in case.last_error

    @pytest.mark.parametrize("status", [401, 403, 408, 409, 425, 429, 500, 502, 504])
    async def test_a_temporary_failure_or_bad_credentials_are_retried_not_given_up(
        self, adapter, sessionmaker, status
    ):
        report_id = await open_case(adapter)
        await pusher(sessionmaker, Answer(status)).run_once()
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.attempts) == ("pending", 1)

    async def test_a_throttled_create_waits_as_long_as_the_crm_asks(
        self, adapter, sessionmaker
    ):
        report_id = await open_case(adapter)
        before = dt.datetime.now(dt.UTC)
        await pusher(sessionmaker, Throttled(retry_after="120")).run_once()
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.attempts) == ("pending", 1)
        # The backoff alone would retry within microseconds.
        assert case.next_attempt_at >= before + dt.timedelta(seconds=120)
        assert case.next_attempt_at <= dt.datetime.now(dt.UTC) + dt.timedelta(
            seconds=121
        )

    async def test_an_unreadable_answer_is_retried_with_a_look_up(
        self, adapter, sessionmaker
    ):
        report_id = await open_case(adapter)
        await pusher(sessionmaker, Answer(200)).run_once()
        assert (await the_case(sessionmaker, report_id)).state == "pending"

    async def test_an_attempt_ends_at_its_time_limit_its_lease_renewed_till_then(
        self, adapter, sessionmaker
    ):
        report_id = await open_case(adapter)
        await pusher(sessionmaker, NeverAnswers(), lease=1, timeout=1.5).run_once()
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.last_error) == ("pending", "attempt timed out")


class TestShortLease:
    """A pusher holds a case for a short lease, renewed while its CRM call runs."""

    async def test_a_case_whose_pusher_died_mid_call_is_pushed_after_the_lease(
        self,
        adapter,
        adapter_settings,
        crm_simulator,
        crm_simulator_app,
        sessionmaker,
        clock,
    ):
        report_id = await open_case(adapter)
        lease = adapter_settings.case_lease_seconds
        assert lease <= 10
        crm = httpx.ASGITransport(app=crm_simulator_app)
        # The CRM creates the case; the pusher is killed before the answer reaches it.
        held = Held(crm)
        killed = asyncio.create_task(pusher(sessionmaker, held, lease=lease).run_once())
        await asyncio.wait_for(held.entered.wait(), 10)
        killed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await killed
        assert len(await crm_cases(crm_simulator, report_id)) == 1

        restarted = pusher(sessionmaker, crm, lease=lease)
        assert await restarted.run_once() == 0  # its lease runs still
        clock.advance(dt.timedelta(seconds=lease))
        assert await restarted.run_once() == 1
        [in_crm] = await crm_cases(
            crm_simulator, report_id
        )  # looked up, not made again
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.crm_case_id, case.attempts) == (
            "created",
            in_crm["case_id"],
            2,
        )

    async def test_a_case_under_way_is_not_taken_over_while_its_lease_is_renewed(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker, clock
    ):
        report_id = await open_case(adapter)
        crm = httpx.ASGITransport(app=crm_simulator_app)
        held = Held(crm)
        # Renewed every 2 s and given up after 4 s without one: a loaded machine keeps it.
        lease = 6.0
        pushing = asyncio.create_task(
            pusher(sessionmaker, held, lease=lease).run_once()
        )
        await asyncio.wait_for(held.entered.wait(), 10)
        claimed_until = (await the_case(sessionmaker, report_id)).next_attempt_at
        clock.advance(dt.timedelta(seconds=2 * lease))  # the first lease is long over

        async def renewed_past_its_first_lease() -> bool:
            case = await the_case(sessionmaker, report_id)
            return case.next_attempt_at > claimed_until + dt.timedelta(seconds=lease)

        await eventually(renewed_past_its_first_lease, what="the lease renewed")
        assert await pusher(sessionmaker, crm, lease=lease).run_once() == 0
        held.release.set()
        assert await pushing == 1
        [in_crm] = await crm_cases(crm_simulator, report_id)
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.crm_case_id, case.attempts) == (
            "created",
            in_crm["case_id"],
            1,
        )

    async def test_a_worker_that_lost_its_claim_does_not_renew_it(
        self, adapter, crm_simulator_app, sessionmaker, clock
    ):
        report_id = await open_case(adapter)
        crm = httpx.ASGITransport(app=crm_simulator_app)
        lease = dt.timedelta(seconds=10)
        [first] = await pusher(sessionmaker, crm, lease=10)._claim()
        clock.advance(lease)
        [second] = await pusher(sessionmaker, crm, lease=10)._claim()
        taken_over_until = (await the_case(sessionmaker, report_id)).next_attempt_at
        clock.advance(dt.timedelta(seconds=1))
        assert await renew_claim(sessionmaker, first, lease=lease) is False
        assert (await the_case(sessionmaker, report_id)).next_attempt_at == (
            taken_over_until
        )
        assert await renew_claim(sessionmaker, second, lease=lease) is True
        assert (await the_case(sessionmaker, report_id)).next_attempt_at > (
            taken_over_until
        )

    async def test_a_worker_that_starts_takes_up_expired_claims_at_once(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker, clock
    ):
        report_id = await open_case(adapter)
        crm = httpx.ASGITransport(app=crm_simulator_app)
        await pusher(sessionmaker, crm, lease=10)._claim()  # and the worker dies
        clock.advance(dt.timedelta(seconds=10))
        loops = LoopGroup()
        # Its first pass does not wait for a wake-up or a poll interval.
        loops.start(
            "adapter.cases",
            pusher(sessionmaker, crm, lease=10).run_once,
            wakeup=asyncio.Event(),
            interval=3600,
        )
        try:

            async def created() -> bool:
                return (await the_case(sessionmaker, report_id)).state == "created"

            await eventually(created, what="the case created")
        finally:
            await loops.stop()
        assert len(await crm_cases(crm_simulator, report_id)) == 1
