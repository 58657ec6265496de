"""What operators of the adapter control and watch: tripping and resetting a connector's
breaker by hand, replaying dead deliveries in bulk, the pollers' state, and the deliveries',
breakers' and pollers' metrics; over HTTP against the adapter, with the simulator as CRM."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import uuid

import httpx
import pytest
from sqlalchemy import select

from crm_adapter.app import create_app as create_adapter
from crm_adapter.cases.models import Case, CaseAction
from crm_adapter.statuses.polling import Poller
from tests.crm_adapter.deliveries import (
    case_of,
    connector_state,
    connectors,
    delivery,
    end_open_period,
    faults,
    forwarder,
    make_due,
    pusher,
)
from tests.crm_adapter.fake_crm import Answer, Throttled
from tests.crm_adapter.helpers import (
    crm_cases,
    open311_connector,
    open_case,
    samples,
    send,
)
from tests.helpers import MANAGE, READ, eventually, route_unit_to, serve
from tests.signed import reopen_event

pytestmark = pytest.mark.usefixtures("close_clients")


AN_HOUR = Throttled("3600")
"""A CRM asking to be called again in an hour (429 with `Retry-After`)."""


class Held(httpx.AsyncBaseTransport):
    """A CRM whose answers wait until the test releases them: an attempt under way."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.entered.set()
        await self.release.wait()
        return await self.inner.handle_async_request(request)


async def trip(adapter, name: str = "rest_json", **body) -> httpx.Response:
    return await adapter.post(
        f"/admin/connectors/{name}/trip", json=body or None, headers=MANAGE
    )


async def reset(adapter, name: str = "rest_json", **body) -> httpx.Response:
    return await adapter.post(
        f"/admin/connectors/{name}/reset", json=body or None, headers=MANAGE
    )


async def audit_entries(adapter, action: str) -> list[dict]:
    response = await adapter.get("/admin/actions", headers=MANAGE)
    assert response.status_code == 200, response.text
    return [a for a in response.json()["items"] if a["action"] == action]


def at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


class TestManualBreaker:
    async def test_tripped_for_a_while_nothing_goes_then_a_probe_closes_it(
        self, adapter, crm, sessionmaker
    ):
        reports = [await open_case(adapter) for _ in range(2)]
        before = dt.datetime.now(dt.UTC)
        response = await trip(adapter, seconds=600, reason="CRM maintenance OPS-1240")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["name"], body["breaker"], body["tripped_by"]) == (
            "rest_json",
            "open",
            "city-manager",
        )
        assert body["trip_reason"] == "CRM maintenance OPS-1240"
        until = at(body["open_until"]) - before
        assert dt.timedelta(seconds=599) < until <= dt.timedelta(seconds=601)
        assert await connector_state(adapter) == body

        up = pusher(sessionmaker, crm)
        assert await up.run_once() == 0  # nothing sent while tripped
        for report_id in reports:
            case = await case_of(sessionmaker, report_id)
            assert (case.state, case.attempts) == ("pending", 0)
            assert await crm_cases(crm, report_id) == []

        await end_open_period(sessionmaker)  # the ten minutes are over
        state = await connector_state(adapter)
        assert state["breaker"] == "half_open"
        assert await up.run_once() == 1  # the probe alone
        state = await connector_state(adapter)
        assert (state["breaker"], state["tripped_by"], state["open_until"]) == (
            "closed",
            None,
            None,
        )
        assert await up.run_once() == 1
        for report_id in reports:
            assert len(await crm_cases(crm, report_id)) == 1

        [entry] = await audit_entries(adapter, "connector.trip")
        assert (entry["operator_name"], entry["target_id"], entry["details"]) == (
            "city-manager",
            "rest_json",
            {"seconds": 600, "reason": "CRM maintenance OPS-1240"},
        )

    async def test_tripped_until_reset_no_answer_under_way_closes_it(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        under_way = await open_case(adapter)
        held = Held(httpx.ASGITransport(app=crm_simulator_app))
        push = asyncio.create_task(pusher(sessionmaker, held).run_once())
        await asyncio.wait_for(held.entered.wait(), 10)

        response = await trip(adapter)  # no body: until an operator resets it
        assert response.status_code == 200, response.text
        assert (response.json()["breaker"], response.json()["open_until"]) == (
            "open",
            None,
        )
        held.release.set()
        assert await push == 1
        assert (await case_of(sessionmaker, under_way)).state == "created"

        # The CRM answered the attempt made before the trip: the breaker stays open.
        state = await connector_state(adapter)
        assert (state["breaker"], state["open_until"], state["tripped_by"]) == (
            "open",
            None,
            "city-manager",
        )
        waiting = await open_case(adapter)
        up = pusher(sessionmaker, httpx.ASGITransport(app=crm_simulator_app))
        assert await up.run_once() == 0
        assert (await case_of(sessionmaker, waiting)).attempts == 0

        reset_ = await reset(adapter, reason="maintenance over")
        assert reset_.status_code == 200, reset_.text
        assert (reset_.json()["breaker"], reset_.json()["tripped_by"]) == (
            "closed",
            None,
        )
        assert await up.run_once() == 1
        assert (await case_of(sessionmaker, waiting)).state == "created"
        [entry] = await audit_entries(adapter, "connector.reset")
        assert entry["details"]["reason"] == "maintenance over"

    async def test_reset_makes_the_waiting_deliveries_due_now(
        self, adapter, crm, sessionmaker
    ):
        reports = [await open_case(adapter) for _ in range(3)]
        assert await pusher(sessionmaker, AN_HOUR).run_once() == 3
        assert (await connector_state(adapter))["breaker"] == "open"
        for report_id in reports:
            case = await case_of(sessionmaker, report_id)
            assert case.next_attempt_at > dt.datetime.now(dt.UTC) + dt.timedelta(
                minutes=30
            )

        response = await reset(adapter)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["breaker"], body["consecutive_failures"]) == ("closed", 0)
        assert body["deliveries_due_now"] == 3
        assert await pusher(sessionmaker, crm).run_once() == 3
        for report_id in reports:
            assert (await case_of(sessionmaker, report_id)).state == "created"
            assert len(await crm_cases(crm, report_id)) == 1
        [entry] = await audit_entries(adapter, "connector.reset")
        assert entry["details"]["deliveries_due_now"] == 3
        assert entry["details"]["was_open_seconds"] >= 0

    async def test_reset_leaves_an_attempt_under_way_alone(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        report_id = await open_case(adapter)
        held = Held(httpx.ASGITransport(app=crm_simulator_app))
        push = asyncio.create_task(pusher(sessionmaker, held).run_once())
        await asyncio.wait_for(held.entered.wait(), 10)

        response = await reset(adapter)
        assert response.status_code == 200
        assert response.json()["deliveries_due_now"] == 0
        other = pusher(sessionmaker, httpx.ASGITransport(app=crm_simulator_app))
        assert await other.run_once() == 0  # not sent a second time meanwhile
        held.release.set()
        assert await push == 1
        cases = (
            await crm_simulator.get(
                "/api/cases", params={"external_ref": str(report_id)}
            )
        ).json()
        assert len(cases) == 1

    async def test_a_probe_failing_after_a_reset_counts_as_one_failure(
        self, adapter, sessionmaker
    ):
        for _ in range(3):
            await open_case(adapter)
        assert await pusher(sessionmaker, Answer(503)).run_once() == 3
        await end_open_period(sessionmaker)
        await make_due(sessionmaker)
        held = Held(Answer(503))
        probe = asyncio.create_task(pusher(sessionmaker, held).run_once())
        await asyncio.wait_for(held.entered.wait(), 10)
        assert (await reset(adapter)).status_code == 200
        held.release.set()
        assert await probe == 1

        state = await connector_state(adapter)
        assert (state["breaker"], state["consecutive_failures"]) == ("closed", 1)

    async def test_an_unknown_connector_a_reader_and_bad_bodies_are_refused(
        self, adapter
    ):
        for action in ("trip", "reset"):
            unknown = await adapter.post(
                f"/admin/connectors/nowhere/{action}", headers=MANAGE
            )
            assert unknown.status_code == 404
            assert unknown.json()["type"] == "urn:mam:problem:connector-not-found"
            assert "nowhere" in unknown.json()["detail"]
            reader = await adapter.post(
                f"/admin/connectors/rest_json/{action}", headers=READ
            )
            assert reader.status_code == 403
            anonymous = await adapter.post(f"/admin/connectors/rest_json/{action}")
            assert anonymous.status_code == 401
        for body in ({"seconds": 0}, {"seconds": -5}, {"until": "tomorrow"}):
            refused = await trip(adapter, **body)
            assert refused.status_code == 422, body
        assert (await connector_state(adapter))["breaker"] == "closed"
        assert await audit_entries(adapter, "connector.trip") == []


async def kill(sessionmaker, status: int = 422) -> None:
    """Every pending case creation is refused by the CRM: dead at once."""
    await pusher(sessionmaker, Answer(status)).run_once()


async def replay(adapter, **body) -> httpx.Response:
    return await adapter.post("/admin/deliveries/replay", json=body, headers=MANAGE)


class TestBulkReplay:
    async def test_by_report_keeps_the_idempotency_of_a_single_replay(
        self, adapter, crm, sessionmaker
    ):
        report_id, other = await open_case(adapter), await open_case(adapter)
        await faults(
            crm, {"kind": "reset_after_commit", "count": 2, "operations": ["create"]}
        )
        # No retry budget left: the ambiguous failures end both dead, yet the CRM has them.
        await pusher(sessionmaker, crm, budget=dt.timedelta(0)).run_once()
        case = await case_of(sessionmaker, report_id)
        assert case.state == "dead"
        assert len(await crm_cases(crm, report_id)) == 1

        response = await replay(adapter, report_id=str(report_id), reason="checked")
        assert response.status_code == 200, response.text
        assert response.json() == {"replayed": 1, "more": False, "ids": [str(case.id)]}
        assert (await case_of(sessionmaker, other)).state == "dead"
        replayed = await delivery(adapter, case.id)
        assert (replayed["state"], replayed["attempts"]) == ("pending", 0)

        assert await pusher(sessionmaker, crm).run_once() == 1
        [crm_case] = await crm_cases(crm, report_id)
        case = await case_of(sessionmaker, report_id)
        assert (case.state, case.crm_case_id) == ("created", crm_case["case_id"])
        logged = await delivery(adapter, case.id)
        assert [a["outcome"] for a in logged["log"]] == ["dead", "skipped_by_lookup"]

        [entry] = await audit_entries(adapter, "delivery.replay_many")
        assert entry["operator_name"] == "city-manager"
        assert entry["details"] == {
            "filter": {"report_id": str(report_id)},
            "replayed": 1,
            "more": False,
            "reason": "checked",
        }

    async def test_by_connector_kind_and_the_time_they_died(
        self, adapter, crm, sessionmaker
    ):
        early = await open_case(adapter)
        await kill(sessionmaker)
        between = dt.datetime.now(dt.UTC)
        late = await open_case(adapter)
        await kill(sessionmaker)
        created = await open_case(adapter)
        assert await pusher(sessionmaker, crm).run_once() == 1
        reopen_id = uuid.uuid4()
        await send(adapter, reopen_event(created, reopen_id=reopen_id))
        await faults(
            crm, {"kind": "error", "status": 404, "count": 1, "operations": ["reopen"]}
        )
        assert await forwarder(sessionmaker, crm).run_once() == 1
        assert (await delivery(adapter, reopen_id))["state"] == "dead"
        ids = {r: (await case_of(sessionmaker, r)).id for r in (early, late)}

        nothing = await replay(adapter, connector="open311")
        assert nothing.json() == {"replayed": 0, "more": False, "ids": []}
        reopens = await replay(adapter, connector="rest_json", kind="reopen")
        assert reopens.json()["ids"] == [str(reopen_id)]
        after = await replay(
            adapter, kind="create", dead_since=between.isoformat(), reason="fixed"
        )
        assert after.json()["ids"] == [str(ids[late])]
        before = await replay(adapter, dead_until=between.isoformat())
        assert before.json()["ids"] == [str(ids[early])]
        again = await replay(adapter, connector="rest_json")
        assert again.json() == {"replayed": 0, "more": False, "ids": []}

        assert await forwarder(sessionmaker, crm).run_once() == 1
        assert await pusher(sessionmaker, crm).run_once() == 2
        [crm_case] = await crm_cases(crm, created)
        assert [h["status"] for h in crm_case["history"]] == ["NEW", "REOPENED"]
        for report_id in (early, late):
            assert len(await crm_cases(crm, report_id)) == 1
        filters = [
            e["details"]["filter"]
            for e in await audit_entries(adapter, "delivery.replay_many")
        ]
        assert {"connector": "rest_json", "kind": "reopen"} in filters
        assert len(filters) == 5

    async def test_a_capped_call_says_more_remain(self, adapter, sessionmaker):
        reports = [await open_case(adapter) for _ in range(3)]
        await kill(sessionmaker)
        oldest_first = [(await case_of(sessionmaker, r)).id for r in reports]

        first = await replay(adapter, connector="rest_json", limit=2)
        assert first.json() == {
            "replayed": 2,
            "more": True,
            "ids": [str(i) for i in oldest_first[:2]],
        }
        second = await replay(adapter, connector="rest_json", limit=2)
        assert second.json() == {
            "replayed": 1,
            "more": False,
            "ids": [str(oldest_first[2])],
        }
        counts = [
            (e["details"]["replayed"], e["details"]["more"])
            for e in await audit_entries(adapter, "delivery.replay_many")
        ]
        assert sorted(counts) == [(1, False), (2, True)]

    async def test_the_document_says_a_filter_is_needed(self, adapter):
        spec = (await adapter.get("/openapi.json")).json()
        schema = spec["components"]["schemas"]["BulkReplay"]
        assert schema["anyOf"] == [
            {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
            for name in ("report_id", "connector", "kind", "dead_since", "dead_until")
        ]
        # As the service checks: a filter sent as null is none.
        missing = await replay(adapter, report_id=None, reason="all of them")
        assert missing.status_code == 422
        assert missing.json()["type"] == "urn:mam:problem:replay-filter-missing"

    async def test_a_filter_is_needed_and_only_the_manage_role_may(
        self, adapter, sessionmaker
    ):
        report_id = await open_case(adapter)
        await kill(sessionmaker)
        for body in ({}, {"reason": "all of them"}):
            missing = await replay(adapter, **body)
            assert missing.status_code == 422
            assert missing.json()["type"] == "urn:mam:problem:replay-filter-missing"
        empty = await replay(
            adapter,
            dead_since="2026-11-28T12:00:00Z",
            dead_until="2026-11-28T08:00:00Z",
        )
        assert empty.status_code == 422
        assert empty.json()["type"] == "urn:mam:problem:empty-dead-window"
        bad: list[dict[str, object]] = [
            {"connector": "rest_json", "limit": 1001},
            {"kind": "lost"},
            {"connector": "rest_json", "everything": True},
            {"kind": "create", "dead_since": 0},  # a number is not seconds since 1970
            {"kind": "create", "limit": True},  # nor is a boolean a number
        ]
        for refused in bad:
            assert (await replay(adapter, **refused)).status_code == 422, refused
        reader = await adapter.post(
            "/admin/deliveries/replay", json={"connector": "rest_json"}, headers=READ
        )
        assert reader.status_code == 403
        assert (await case_of(sessionmaker, report_id)).state == "dead"
        assert await audit_entries(adapter, "delivery.replay_many") == []


def rest_json_poller(sessionmaker, transport: httpx.AsyncBaseTransport) -> Poller:
    [connector] = connectors(transport).values()
    return Poller(sessionmaker=sessionmaker, connector=connector)


async def polling_of(adapter, name: str) -> dict | None:
    response = await adapter.get("/admin/connectors", headers=READ)
    assert response.status_code == 200, response.text
    [found] = [c for c in response.json() if c["name"] == name]
    return found["polling"]


class TestPollingShown:
    async def test_each_polled_connector_shows_its_cursor_runs_and_last_error(
        self, adapter, crm_simulator, crm_simulator_app, sessionmaker
    ):
        await route_unit_to(adapter, "czk", "open311")
        await open_case(adapter, "fallen_tree")
        # By default the Open311 CRM is polled every 5 minutes; the REST JSON one, whose
        # webhooks bring its changes, once a day to catch the webhooks that never came.
        never_run = {
            "cursor": None,
            "last_run_at": None,
            "last_success_at": None,
            "last_error": None,
        }
        assert await polling_of(adapter, "open311") == {
            "enabled": True,
            "interval_seconds": 300.0,
            **never_run,
        }
        assert await polling_of(adapter, "rest_json") == {
            "enabled": True,
            "interval_seconds": 86400.0,
            **never_run,
        }

        failing = Poller(
            sessionmaker=sessionmaker,
            connector=open311_connector(sessionmaker, Answer(503), "xml"),
        )
        await failing.run_once()
        polling = await polling_of(adapter, "open311")
        assert polling is not None
        assert polling["last_run_at"] is not None
        assert polling["last_success_at"] is None
        assert "503" in polling["last_error"]

        up = Poller(
            sessionmaker=sessionmaker,
            connector=open311_connector(
                sessionmaker, httpx.ASGITransport(app=crm_simulator_app), "xml"
            ),
        )
        await up.run_once()
        polling = await polling_of(adapter, "open311")
        assert polling is not None
        assert polling["last_error"] is None
        assert polling["cursor"] is not None
        assert polling["last_success_at"] == polling["last_run_at"]


class TestPollingOff:
    @pytest.fixture
    def adapter_settings(self, adapter_settings):
        return adapter_settings.model_copy(
            update={"crm_reconcile_hours": 0, "open311_poll": False}
        )

    async def test_a_connector_polled_before_keeps_its_record(
        self, adapter, crm_simulator_app, sessionmaker
    ):
        await open_case(adapter)
        assert await polling_of(adapter, "rest_json") is None
        assert await polling_of(adapter, "open311") is None
        await rest_json_poller(
            sessionmaker, httpx.ASGITransport(app=crm_simulator_app)
        ).run_once()
        polling = await polling_of(adapter, "rest_json")
        assert polling is not None
        assert (polling["enabled"], polling["interval_seconds"]) == (False, None)
        assert polling["last_success_at"] is not None


async def scrape(adapter) -> dict:
    response = await adapter.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)


def by_connector(found: dict, name: str) -> dict[str, float]:
    return {
        labels[0][1]: value
        for (metric, labels), value in found.items()
        if metric == name
    }


class TestMetrics:
    async def test_deliveries_pending_and_dead_by_connector_and_kind(
        self, adapter, crm, sessionmaker
    ):
        empty = await scrape(adapter)
        for connector in ("rest_json", "open311"):
            for kind in ("create", "reopen", "comment", "erase_contact"):
                for state in ("pending", "dead"):
                    labels = (
                        ("connector", connector),
                        ("kind", kind),
                        ("state", state),
                    )
                    assert empty[("mam_adapter_deliveries", labels)] == 0

        created = await open_case(adapter)
        assert await pusher(sessionmaker, crm).run_once() == 1
        await open_case(adapter)
        await kill(sessionmaker)
        for _ in range(2):
            await open_case(adapter)
        await send(adapter, reopen_event(created))
        found = await scrape(adapter)

        def deliveries(kind: str, state: str) -> float:
            labels = (("connector", "rest_json"), ("kind", kind), ("state", state))
            return found[("mam_adapter_deliveries", labels)]

        assert deliveries("create", "pending") == 2
        assert deliveries("create", "dead") == 1
        assert deliveries("reopen", "pending") == 1
        assert deliveries("reopen", "dead") == 0

    async def test_the_oldest_due_delivery_s_wait_per_connector(
        self, adapter, sessionmaker
    ):
        metric = "mam_adapter_oldest_due_delivery_age_seconds"
        assert by_connector(await scrape(adapter), metric) == {
            "open311": 0,
            "rest_json": 0,
        }
        waiting, retrying = await open_case(adapter), await open_case(adapter)
        now = dt.datetime.now(dt.UTC)
        async with sessionmaker() as session:
            for case in (await session.scalars(select(Case))).all():
                # Due for ten minutes (nothing sent it), or waiting out a retry delay.
                case.next_attempt_at = now + (
                    dt.timedelta(minutes=-10)
                    if case.report_id == waiting
                    else dt.timedelta(minutes=5)
                )
            await session.commit()
        ages = by_connector(await scrape(adapter), metric)
        assert ages["open311"] == 0
        assert 600 <= ages["rest_json"] < 660

        # It is sent; the CRM asks for an hour's patience: nothing is due any more.
        assert await pusher(sessionmaker, AN_HOUR).run_once() == 1
        assert by_connector(await scrape(adapter), metric)["rest_json"] == 0
        assert (await case_of(sessionmaker, retrying)).attempts == 0

    async def test_an_action_waiting_for_its_case_is_not_due(
        self, adapter, sessionmaker
    ):
        report_id = await open_case(adapter)
        await send(adapter, reopen_event(report_id))
        now = dt.datetime.now(dt.UTC)
        async with sessionmaker() as session:
            for row in [
                *(await session.scalars(select(Case))).all(),
                *(await session.scalars(select(CaseAction))).all(),
            ]:
                # The action waits since long ago; its case has been retrying.
                row.next_attempt_at = now + (
                    dt.timedelta(hours=-2)
                    if isinstance(row, CaseAction)
                    else dt.timedelta(minutes=5)
                )
            await session.commit()
        ages = by_connector(
            await scrape(adapter), "mam_adapter_oldest_due_delivery_age_seconds"
        )
        assert ages["rest_json"] == 0

    async def test_breaker_state_per_connector(self, adapter, sessionmaker):
        states = by_connector(await scrape(adapter), "mam_adapter_breaker_state")
        assert states == {"open311": 0, "rest_json": 0}
        assert (await trip(adapter, seconds=60)).status_code == 200
        states = by_connector(await scrape(adapter), "mam_adapter_breaker_state")
        assert states == {"open311": 0, "rest_json": 1}
        await end_open_period(sessionmaker)
        states = by_connector(await scrape(adapter), "mam_adapter_breaker_state")
        assert states == {"open311": 0, "rest_json": 0.5}
        assert (await reset(adapter)).status_code == 200
        states = by_connector(await scrape(adapter), "mam_adapter_breaker_state")
        assert states == {"open311": 0, "rest_json": 0}

    async def test_seconds_since_the_last_successful_poll(
        self, adapter, crm_simulator_app, sessionmaker
    ):
        metric = "mam_adapter_poll_success_age_seconds"
        assert by_connector(await scrape(adapter), metric) == {}  # never run yet
        # How old is too old depends on how often each one is read.
        intervals = by_connector(
            await scrape(adapter), "mam_adapter_poll_interval_seconds"
        )
        assert intervals == {"open311": 300, "rest_json": 86400}
        await route_unit_to(adapter, "czk", "open311")
        await open_case(adapter, "fallen_tree")
        failing = Poller(
            sessionmaker=sessionmaker,
            connector=open311_connector(sessionmaker, Answer(503), "xml"),
        )
        await failing.run_once()
        ages = by_connector(await scrape(adapter), metric)
        assert list(ages) == ["open311"]  # the REST JSON CRM's sweep has not run
        assert math.isinf(ages["open311"])

        up = Poller(
            sessionmaker=sessionmaker,
            connector=open311_connector(
                sessionmaker, httpx.ASGITransport(app=crm_simulator_app), "xml"
            ),
        )
        await up.run_once()
        first = by_connector(await scrape(adapter), metric)["open311"]
        assert 0 <= first < 60

        await failing.run_once()  # a failed poll does not reset the clock

        async def grown() -> float | None:
            age = by_connector(await scrape(adapter), metric)["open311"]
            return age if age > first else None

        assert await eventually(grown, what="the age growing")

    async def test_counted_the_same_by_every_replica(self, adapter, adapter_settings):
        await open_case(adapter)
        await trip(adapter)
        async for other in serve(create_adapter(adapter_settings)):
            here, there = await scrape(adapter), await scrape(other)
            for found in (here, there):
                assert (
                    by_connector(found, "mam_adapter_breaker_state")["rest_json"] == 1
                )
            key = (
                "mam_adapter_deliveries",
                (("connector", "rest_json"), ("kind", "create"), ("state", "pending")),
            )
            assert here[key] == there[key] == 1
