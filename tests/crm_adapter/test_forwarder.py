import asyncio
import contextlib
import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import select

from crm_adapter.cases.models import CaseAction
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.deliveries.forwarder import ActionForwarder
from devtools.crm_simulator.app import create_app as create_simulator
from devtools.crm_simulator.config import Settings as SimulatorSettings
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from tests.crm_adapter.fake_crm import Answer, Held, LoseResponses, NeverAnswers
from tests.crm_adapter.helpers import open_case, pusher, send
from tests.helpers import eventually
from tests.signed import comment_event, reopen_event


@pytest.fixture
def crm_simulator_app():
    # Webhooks to a port nobody listens on: here the CRM's side is read, not its webhooks.
    return create_simulator(
        SimulatorSettings(
            webhook_url="http://127.0.0.1:9/webhooks/crm", webhook_attempts=1
        )
    )


def forwarder(
    sessionmaker,
    transport: httpx.AsyncBaseTransport,
    *,
    lease: float = 120,
    timeout: float = 60,
    budget: dt.timedelta = dt.timedelta(hours=72),
) -> ActionForwarder:
    client = httpx.AsyncClient(transport=transport, base_url="http://crm")
    connector = RestJsonConnector(
        client=client,
        base_url="http://crm",
        api_key=DEV_SECRETS["crm_api_key"],
        timeout=5,
    )
    return ActionForwarder(
        sessionmaker=sessionmaker,
        connectors={connector.name: connector},
        backoff=Backoff(base=1e-6, cap=1e-6, budget=budget),
        lease=dt.timedelta(seconds=lease),
        attempt_timeout=timeout,
    )


async def created_case(adapter, sessionmaker, crm_simulator_app) -> uuid.UUID:
    """A case the CRM (simulator) has, as the pusher leaves it."""
    report_id = await open_case(adapter)
    crm = httpx.ASGITransport(app=crm_simulator_app)
    assert await pusher(sessionmaker, crm).run_once() == 1
    return report_id


async def crm_case(crm_simulator, report_id) -> dict:
    cases = (
        await crm_simulator.get("/api/cases", params={"external_ref": str(report_id)})
    ).json()
    assert len(cases) == 1
    return dict(cases[0])


async def actions(sessionmaker) -> list[CaseAction]:
    async with sessionmaker() as session:
        return list(
            (await session.scalars(select(CaseAction).order_by(CaseAction.seq))).all()
        )


async def make_due(sessionmaker) -> None:
    """Due now rather than after the backoff."""
    async with sessionmaker() as session:
        for action in (await session.scalars(select(CaseAction))).all():
            action.next_attempt_at = dt.datetime.now(dt.UTC)
        await session.commit()


class TestForward:
    async def test_reopens_the_crm_case_with_the_comment(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        report_id = await created_case(adapter, sessionmaker, crm_simulator_app)
        await send(adapter, reopen_event(report_id, comment="Dziura nadal jest"))
        crm = httpx.ASGITransport(app=crm_simulator_app)
        assert await forwarder(sessionmaker, crm).run_once() == 1

        case = await crm_case(crm_simulator, report_id)
        assert case["status"] == "REOPENED"
        assert case["history"][-1] == {
            "status": "REOPENED",
            "note": "Dziura nadal jest",
            "changed_at": case["history"][-1]["changed_at"],
        }
        [action] = await actions(sessionmaker)
        assert (action.kind, action.state, action.attempts) == ("reopen", "done", 1)
        assert await forwarder(sessionmaker, crm).run_once() == 0

    async def test_a_lost_answer_does_not_reopen_twice(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        report_id = await created_case(adapter, sessionmaker, crm_simulator_app)
        await send(adapter, reopen_event(report_id))
        flaky = LoseResponses(httpx.ASGITransport(app=crm_simulator_app), lose=1)
        forward = forwarder(sessionmaker, flaky)
        await forward.run_once()  # the CRM reopened it, we never heard
        [action] = await actions(sessionmaker)
        assert (action.state, action.last_error) == (
            "pending",
            "ReadTimeout: response lost",
        )
        await make_due(sessionmaker)
        assert await forward.run_once() == 1

        case = await crm_case(crm_simulator, report_id)
        assert [h["status"] for h in case["history"]] == ["NEW", "REOPENED"]
        [action] = await actions(sessionmaker)
        assert (action.state, action.attempts) == ("done", 2)

    async def test_waits_until_the_case_exists_in_the_crm(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        report_id = await open_case(adapter)  # routed, not yet in the CRM
        await send(adapter, reopen_event(report_id))
        crm = httpx.ASGITransport(app=crm_simulator_app)
        forward = forwarder(sessionmaker, crm)
        assert await forward.run_once() == 0
        [action] = await actions(sessionmaker)
        assert (action.state, action.attempts) == ("pending", 0)

        assert await pusher(sessionmaker, crm).run_once() == 1
        assert await forward.run_once() == 1
        case = await crm_case(crm_simulator, report_id)
        assert [h["status"] for h in case["history"]] == ["NEW", "REOPENED"]

    async def test_a_comment_reaches_the_case_and_changes_no_status(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        report_id = await created_case(adapter, sessionmaker, crm_simulator_app)
        await send(adapter, comment_event(report_id, comment="Nadal stoi"))
        crm = httpx.ASGITransport(app=crm_simulator_app)
        assert await forwarder(sessionmaker, crm).run_once() == 1
        case = await crm_case(crm_simulator, report_id)
        assert (case["status"], [c["comment"] for c in case["comments"]]) == (
            "NEW",
            ["Nadal stoi"],
        )

    async def test_a_case_gets_its_actions_one_after_the_other(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        report_id = await created_case(adapter, sessionmaker, crm_simulator_app)
        await send(adapter, comment_event(report_id, comment="Pierwszy"))
        await send(adapter, reopen_event(report_id, comment="Drugi"))
        # The first fails: the second waits for it rather than overtaking it.
        assert await forwarder(sessionmaker, Answer(503)).run_once() == 1
        await make_due(sessionmaker)
        first, second = await actions(sessionmaker)
        assert (first.kind, first.state, first.attempts) == ("comment", "pending", 1)
        assert (second.kind, second.state, second.attempts) == ("reopen", "pending", 0)

        crm = httpx.ASGITransport(app=crm_simulator_app)
        forward = forwarder(sessionmaker, crm)
        assert await forward.run_once() == 1
        assert await forward.run_once() == 1
        case = await crm_case(crm_simulator, report_id)
        assert [c["comment"] for c in case["comments"]] == ["Pierwszy"]
        assert case["history"][-1]["note"] == "Drugi"
        assert [a.state for a in await actions(sessionmaker)] == ["done", "done"]


class TestFailures:
    async def test_an_unavailable_crm_is_retried_later(
        self, adapter, sessionmaker, crm_simulator_app
    ):
        report_id = await created_case(adapter, sessionmaker, crm_simulator_app)
        await send(adapter, reopen_event(report_id))
        await forwarder(sessionmaker, Answer(503)).run_once()
        [action] = await actions(sessionmaker)
        assert (action.state, action.attempts) == ("pending", 1)
        assert action.last_error is not None
        assert "503" in action.last_error

    async def test_after_the_budget_it_is_dead_and_holds_later_ones_back(
        self, adapter, sessionmaker, crm_simulator_app
    ):
        report_id = await created_case(adapter, sessionmaker, crm_simulator_app)
        await send(adapter, reopen_event(report_id))
        await send(adapter, comment_event(report_id))
        spent = forwarder(sessionmaker, Answer(503), budget=dt.timedelta(0))
        assert await spent.run_once() == 1
        first, second = await actions(sessionmaker)
        assert (first.state, second.state) == ("dead", "pending")
        crm = httpx.ASGITransport(app=crm_simulator_app)
        assert await forwarder(sessionmaker, crm).run_once() == 0

    @pytest.mark.parametrize("status", [400, 404, 410, 422])
    async def test_a_refusal_of_our_request_is_dead_at_once(
        self, adapter, sessionmaker, crm_simulator_app, status
    ):
        report_id = await created_case(adapter, sessionmaker, crm_simulator_app)
        await send(adapter, reopen_event(report_id))
        await forwarder(sessionmaker, Answer(status)).run_once()
        [action] = await actions(sessionmaker)
        assert action.state == "dead"
        assert action.last_error is not None
        assert str(status) in action.last_error

    async def test_an_attempt_ends_at_its_time_limit_its_lease_renewed_till_then(
        self, adapter, sessionmaker, crm_simulator_app
    ):
        report_id = await created_case(adapter, sessionmaker, crm_simulator_app)
        await send(adapter, reopen_event(report_id))
        # Renewed at 0.8 s and 1.6 s, a renewal missing for 1.6 s gives the claim up (a
        # loaded machine renews in time): the attempt runs to its 2 s limit.
        await forwarder(sessionmaker, NeverAnswers(), lease=2.4, timeout=2.0).run_once()
        [action] = await actions(sessionmaker)
        assert (action.state, action.last_error) == ("pending", "attempt timed out")


class TestShortLease:
    async def test_a_reopen_under_way_keeps_its_claim_and_one_left_behind_is_taken_up(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker, clock
    ):
        report_id = await created_case(adapter, sessionmaker, crm_simulator_app)
        await send(adapter, reopen_event(report_id))
        crm = httpx.ASGITransport(app=crm_simulator_app)
        held = Held(crm)
        # Renewed every 2 s and given up after 4 s without one: a loaded machine keeps it.
        lease = 6.0
        forwarding = asyncio.create_task(
            forwarder(sessionmaker, held, lease=lease).run_once()
        )
        await asyncio.wait_for(held.entered.wait(), 10)
        [claimed] = await actions(sessionmaker)
        clock.advance(dt.timedelta(seconds=2 * lease))  # the first lease is long over

        async def renewed_past_its_first_lease() -> bool:
            [action] = await actions(sessionmaker)
            return action.next_attempt_at > claimed.next_attempt_at + dt.timedelta(
                seconds=lease
            )

        await eventually(renewed_past_its_first_lease, what="the lease renewed")
        other = forwarder(sessionmaker, crm, lease=lease)
        assert await other.run_once() == 0
        # The forwarder is killed before the CRM's answer reaches it.
        forwarding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await forwarding
        assert await other.run_once() == 0
        clock.advance(dt.timedelta(seconds=lease))
        assert await other.run_once() == 1
        [action] = await actions(sessionmaker)
        assert (action.state, action.attempts) == ("done", 2)
        # The repeat carried the same idempotency key: the CRM reopened the case once.
        case = await crm_case(crm_simulator, report_id)
        assert [h["status"] for h in case["history"]].count("REOPENED") == 1
