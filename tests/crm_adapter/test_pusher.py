import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import select

from crm_adapter.cases.models import Case
from crm_adapter.cases.pusher import CasePusher
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.db import OutboxEvent
from shared.contracts import Envelope, ReportStatusChangedV1
from shared.db import make_engine, make_sessionmaker
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from tests.signed import submitted_event


class LoseResponses(httpx.AsyncBaseTransport):
    """The CRM commits, then the answer is lost on the way back (`lose` times)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, lose: int) -> None:
        self.inner = inner
        self.lose = lose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and self.lose > 0:
            self.lose -= 1
            raise httpx.ReadTimeout("response lost", request=request)
        return response


class Answer(httpx.AsyncBaseTransport):
    """A CRM that answers every call with one status."""

    def __init__(self, status: int) -> None:
        self.status = status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.status, json={"error": "no"})


class Throttled(httpx.AsyncBaseTransport):
    """A CRM answering 429 with a `Retry-After`."""

    def __init__(self, retry_after: str) -> None:
        self.retry_after = retry_after

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"error": "slow down"}, headers={"Retry-After": self.retry_after}
        )


class NeverAnswers(httpx.AsyncBaseTransport):
    """A CRM that accepts the connection and never says anything."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.fixture
async def sessionmaker(adapter_settings):
    engine = make_engine(adapter_settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


def pusher(
    sessionmaker, transport: httpx.AsyncBaseTransport, *, lease: float = 120
) -> CasePusher:
    client = httpx.AsyncClient(transport=transport, base_url="http://crm")
    connector = RestJsonConnector(
        client=client,
        base_url="http://crm",
        api_key=DEV_SECRETS["crm_api_key"],
        timeout=5,
    )
    return CasePusher(
        sessionmaker=sessionmaker,
        connectors={connector.name: connector},
        backoff=Backoff(base=1e-6, cap=1e-6),
        lease=dt.timedelta(seconds=lease),
    )


async def open_case(adapter, category: str = "pothole") -> uuid.UUID:
    """A report handed over by intake and routed, its case not yet in the CRM."""
    report_id = uuid.uuid4()
    body, headers = submitted_event(category, report_id)
    assert (
        await adapter.post("/internal/events", content=body, headers=headers)
    ).status_code == 202
    return report_id


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

    async def test_an_attempt_ends_well_inside_its_lease(self, adapter, sessionmaker):
        report_id = await open_case(adapter)
        await pusher(sessionmaker, NeverAnswers(), lease=0.2).run_once()
        case = await the_case(sessionmaker, report_id)
        assert (case.state, case.last_error) == ("pending", "attempt timed out")
