"""Deliveries to the CRM: the attempt log, the circuit breaker, dead letters and replay,
driven against the simulator served over HTTP with its faults, read through the admin API."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import select, update

from crm_adapter.cases.models import Case, CaseAction
from crm_adapter.deliveries.models import ConnectorBreaker
from shared.contracts import ReporterContact
from tests.crm_adapter.deliveries import (
    BUDGET,
    case_of,
    connector_state,
    delivery,
    end_open_period,
    faults,
    forwarder,
    make_due,
    pusher,
)
from tests.crm_adapter.fake_crm import Answer, Held
from tests.crm_adapter.helpers import crm_cases, open_case, send
from tests.helpers import MANAGE, READ, eventually
from tests.signed import comment_event, erased_event, reopen_event, submitted_event

pytestmark = pytest.mark.usefixtures("close_clients")


class TestDeliveryLog:
    async def test_a_lost_answer_and_the_look_up_after_it(
        self, adapter, crm, sessionmaker
    ):
        report_id = await open_case(adapter)
        await faults(
            crm, {"kind": "reset_after_commit", "count": 1, "operations": ["create"]}
        )
        push = pusher(sessionmaker, crm)
        assert await push.run_once() == 1  # created in the CRM, the answer never came
        await make_due(sessionmaker)
        assert await push.run_once() == 1

        case = await case_of(sessionmaker, report_id)
        [crm_case] = await crm_cases(crm, report_id)
        assert (case.state, case.crm_case_id) == ("created", crm_case["case_id"])
        logged = await delivery(adapter, case.id)
        assert (logged["kind"], logged["state"], logged["case_id"]) == (
            "create",
            "done",
            str(case.id),
        )
        assert logged["report_id"] == str(report_id)
        assert logged["next_attempt_at"] is None
        first, second = logged["log"]
        assert (first["attempt"], first["outcome"], first["http_status"]) == (
            1,
            "retry",
            None,
        )
        assert "RemoteProtocolError" in first["error"]
        assert (second["attempt"], second["outcome"], second["error"]) == (
            2,
            "skipped_by_lookup",
            None,
        )
        assert all(a["duration_ms"] >= 0 for a in logged["log"])
        assert first["started_at"] < second["started_at"]

    async def test_a_refusal_is_dead_at_once_with_the_crm_status(
        self, adapter, crm, sessionmaker
    ):
        report_id = await open_case(adapter)
        await faults(crm, {"kind": "error", "status": 422, "count": 1})
        await pusher(sessionmaker, crm).run_once()
        case = await case_of(sessionmaker, report_id)
        logged = await delivery(adapter, case.id)
        assert (logged["state"], logged["attempts"], logged["next_attempt_at"]) == (
            "dead",
            1,
            None,
        )
        assert [(a["outcome"], a["http_status"]) for a in logged["log"]] == [
            ("dead", 422)
        ]
        assert "422" in logged["last_error"]

    async def test_a_case_shows_its_creation_and_its_actions(
        self, adapter, crm, sessionmaker
    ):
        report_id = await open_case(adapter)
        assert await pusher(sessionmaker, crm).run_once() == 1
        await send(adapter, reopen_event(report_id))
        await faults(crm, {"kind": "error", "count": 1, "operations": ["reopen"]})
        forward = forwarder(sessionmaker, crm)
        assert await forward.run_once() == 1
        await make_due(sessionmaker)
        assert await forward.run_once() == 1

        case = await case_of(sessionmaker, report_id)
        response = await adapter.get(f"/admin/cases/{case.id}/deliveries", headers=READ)
        assert response.status_code == 200
        body = response.json()
        assert (body["case_id"], body["report_id"]) == (str(case.id), str(report_id))
        creation, reopen = body["deliveries"]
        assert (creation["kind"], creation["id"], creation["state"]) == (
            "create",
            str(case.id),
            "done",
        )
        assert [a["outcome"] for a in creation["log"]] == ["delivered"]
        assert (reopen["kind"], reopen["state"]) == ("reopen", "done")
        assert [(a["outcome"], a["http_status"]) for a in reopen["log"]] == [
            ("retry", 503),
            ("delivered", None),
        ]
        assert (await delivery(adapter, uuid.UUID(reopen["id"])))["log"] == reopen[
            "log"
        ]
        by_report = await adapter.get(
            f"/admin/cases/{report_id}/deliveries", headers=READ
        )
        assert by_report.json() == body

    async def test_unknown_ids_are_404_problems(self, adapter):
        missing = await adapter.get(f"/admin/deliveries/{uuid.uuid4()}", headers=READ)
        assert missing.status_code == 404
        assert missing.json()["type"] == "urn:mam:problem:delivery-not-found"
        no_case = await adapter.get(
            f"/admin/cases/{uuid.uuid4()}/deliveries", headers=READ
        )
        assert no_case.status_code == 404
        assert no_case.json()["type"] == "urn:mam:problem:case-not-found"
        anonymous = await adapter.get("/admin/deliveries")
        assert anonymous.status_code == 401


class TestBreaker:
    async def test_opens_after_consecutive_failures_and_stops_claiming(
        self, adapter, sessionmaker
    ):
        reports = [await open_case(adapter) for _ in range(4)]
        down = pusher(sessionmaker, Answer(503))
        assert await down.run_once() == 4  # a batch fails: 4 failures in a row
        state = await connector_state(adapter)
        assert (
            state["breaker"],
            state["consecutive_failures"],
            state["configured"],
        ) == (
            "open",
            4,
            True,
        )
        assert "503" in state["last_error"]
        opened = dt.datetime.fromisoformat(state["opened_at"])
        until = dt.datetime.fromisoformat(state["open_until"])
        assert until - opened == dt.timedelta(seconds=60)

        await make_due(sessionmaker)
        assert await down.run_once() == 0  # nothing claimed, no attempt burnt
        assert await forwarder(sessionmaker, Answer(503)).run_once() == 0
        for report_id in reports:
            case = await case_of(sessionmaker, report_id)
            assert (case.state, case.attempts) == ("pending", 1)

    async def test_half_open_sends_one_probe_whose_success_closes_it(
        self, adapter, crm, sessionmaker
    ):
        reports = [await open_case(adapter) for _ in range(3)]
        assert await pusher(sessionmaker, Answer(503)).run_once() == 3
        assert (await connector_state(adapter))["breaker"] == "open"
        await end_open_period(sessionmaker)
        await make_due(sessionmaker)
        assert (await connector_state(adapter))["breaker"] == "half_open"

        up = pusher(sessionmaker, crm)
        assert await up.run_once() == 1  # the probe alone
        state = await connector_state(adapter)
        assert (state["breaker"], state["consecutive_failures"]) == ("closed", 0)
        assert state["open_until"] is None
        assert await up.run_once() == 2
        for report_id in reports:
            assert (await case_of(sessionmaker, report_id)).state == "created"
            assert len(await crm_cases(crm, report_id)) == 1

    async def test_a_probe_under_way_keeps_the_half_open_breaker_to_itself(
        self, adapter, crm, sessionmaker
    ):
        for _ in range(3):
            await open_case(adapter)
        assert await pusher(sessionmaker, Answer(503)).run_once() == 3
        await end_open_period(sessionmaker)
        await make_due(sessionmaker)
        held = Held(Answer(503))
        lease = 1.0
        probing = asyncio.create_task(
            pusher(sessionmaker, held, lease=lease).run_once()
        )
        await asyncio.wait_for(held.entered.wait(), 10)
        held_until = await breaker_open_until(sessionmaker)

        async def renewed_past_the_first_lease() -> bool:
            until = await breaker_open_until(sessionmaker)
            return until > held_until + dt.timedelta(seconds=lease)

        await eventually(renewed_past_the_first_lease, what="the probe's hold renewed")
        assert not probing.done()  # the probe's call is still under way
        assert (await connector_state(adapter))["breaker"] == "open"
        assert await pusher(sessionmaker, crm, lease=lease).run_once() == 0
        assert not probing.done()
        held.release.set()
        assert await probing == 1
        # The probe failed: open again, twice as long.
        state = await connector_state(adapter)
        assert (state["breaker"], state["consecutive_failures"]) == ("open", 4)
        until = dt.datetime.fromisoformat(state["open_until"])
        assert until - dt.datetime.now(dt.UTC) > dt.timedelta(seconds=110)

    async def test_a_failed_probe_opens_it_twice_as_long(self, adapter, sessionmaker):
        for _ in range(3):
            await open_case(adapter)
        down = pusher(sessionmaker, Answer(503))
        await down.run_once()
        await end_open_period(sessionmaker)
        await make_due(sessionmaker)
        assert await down.run_once() == 1
        state = await connector_state(adapter)
        assert state["breaker"] == "open"
        until = dt.datetime.fromisoformat(state["open_until"])
        remaining = until - dt.datetime.now(dt.UTC)
        assert dt.timedelta(seconds=110) < remaining <= dt.timedelta(seconds=120)

    async def test_bad_credentials_open_it_at_once_and_kill_nothing(
        self, adapter, sessionmaker
    ):
        report_id = await open_case(adapter)
        assert await pusher(sessionmaker, Answer(401)).run_once() == 1
        state = await connector_state(adapter)
        assert (state["breaker"], state["consecutive_failures"]) == ("open", 1)
        case = await case_of(sessionmaker, report_id)
        assert (case.state, case.attempts) == ("pending", 1)

    async def test_the_time_it_was_open_does_not_count_against_budgets(
        self, adapter, crm, sessionmaker
    ):
        probe, waiting = await open_case(adapter), await open_case(adapter)
        now = dt.datetime.now(dt.UTC)
        async with sessionmaker() as session:
            for case in (await session.scalars(select(Case))).all():
                # Queued 80 h ago, 10 h before the CRM went down.
                case.created_at = now - dt.timedelta(hours=80)
                case.next_attempt_at = (
                    now if case.report_id == probe else now + dt.timedelta(hours=1)
                )
            session.add(
                ConnectorBreaker(
                    connector="rest_json",
                    consecutive_failures=40,
                    opened_at=now - dt.timedelta(hours=70),
                    open_until=now - dt.timedelta(seconds=1),
                    open_seconds=600.0,
                    updated_at=now,
                )
            )
            await session.commit()
        assert await pusher(sessionmaker, crm).run_once() == 1  # the probe: success
        assert (await case_of(sessionmaker, probe)).state == "created"

        # 80 h waited, 70 h of it with the CRM down: 10 h of a 72 h budget are spent.
        await make_due(sessionmaker)
        assert await pusher(sessionmaker, Answer(503)).run_once() == 1
        case = await case_of(sessionmaker, waiting)
        assert (case.state, case.attempts) == ("pending", 1)


async def breaker_open_until(sessionmaker) -> dt.datetime:
    async with sessionmaker() as session:
        breaker = await session.get(ConnectorBreaker, "rest_json")
        assert breaker is not None
        assert breaker.open_until is not None
        return breaker.open_until


class TestDeadLetters:
    async def test_listed_by_state_kind_and_connector_newest_first_in_pages(
        self, adapter, crm, sessionmaker
    ):
        done = await open_case(adapter)
        assert await pusher(sessionmaker, crm).run_once() == 1
        dead = await open_case(adapter)
        await faults(crm, {"kind": "error", "status": 400, "count": 1})
        assert await pusher(sessionmaker, crm).run_once() == 1
        pending = await open_case(adapter)
        await faults(crm, {"kind": "error", "count": 1})
        assert await pusher(sessionmaker, crm).run_once() == 1
        await send(adapter, comment_event(done))
        ids = {r: (await case_of(sessionmaker, r)).id for r in (done, dead, pending)}

        async def listed(**params) -> list[tuple[str, str, str]]:
            response = await adapter.get(
                "/admin/deliveries", params=params, headers=READ
            )
            assert response.status_code == 200, response.text
            return [
                (item["kind"], item["state"], item["report_id"])
                for item in response.json()["items"]
            ]

        assert await listed(state="dead") == [("create", "dead", str(dead))]
        assert await listed(state="pending") == [
            ("comment", "pending", str(done)),
            ("create", "pending", str(pending)),
        ]
        assert await listed(kind="comment") == [("comment", "pending", str(done))]
        assert await listed(kind="create", state="done") == [
            ("create", "done", str(done))
        ]
        assert len(await listed(connector="rest_json")) == 4
        assert await listed(connector="open311") == []

        seen, cursor = [], None
        while True:
            response = await adapter.get(
                "/admin/deliveries",
                params={"limit": 1} | ({"cursor": cursor} if cursor else {}),
                headers=READ,
            )
            page = response.json()
            assert len(page["items"]) == 1
            seen.append(page["items"][0]["id"])
            if (cursor := page["next_cursor"]) is None:
                break
        assert len(seen) == 4
        assert seen[1:] == [str(ids[pending]), str(ids[dead]), str(ids[done])]
        pending_case = (
            await adapter.get(
                "/admin/deliveries", params={"state": "pending"}, headers=READ
            )
        ).json()["items"][1]
        assert pending_case["next_attempt_at"] is not None
        assert pending_case["last_error"].startswith("HTTP 503")

    async def test_bad_filters_are_refused(self, adapter):
        for params in ({"state": "lost"}, {"kind": "nothing"}, {"cursor": "xyz"}):
            response = await adapter.get(
                "/admin/deliveries", params=params, headers=READ
            )
            assert response.status_code == 422, params


class TestBudgetStart:
    async def test_the_budget_runs_from_the_first_attempt_not_the_wait_before(
        self, adapter, crm, sessionmaker
    ):
        report_id = await open_case(adapter)
        comment = comment_event(report_id, comment="Nadal stoi")
        await adapter.post("/internal/events", content=comment[0], headers=comment[1])
        # Both waited four days (held as unroutable, say): longer than the budget.
        async with sessionmaker() as session:
            long_ago = dt.datetime.now(dt.UTC) - BUDGET - dt.timedelta(days=1)
            for model in (Case, CaseAction):
                await session.execute(update(model).values(created_at=long_ago))
            await session.commit()
        await faults(crm, {"kind": "error", "count": 1})
        await pusher(sessionmaker, crm).run_once()
        assert (await case_of(sessionmaker, report_id)).state == "pending"
        await make_due(sessionmaker)
        await pusher(sessionmaker, crm).run_once()
        assert (await case_of(sessionmaker, report_id)).state == "created"

        await faults(crm, {"kind": "error", "count": 1, "operations": ["comment"]})
        await forwarder(sessionmaker, crm).run_once()
        async with sessionmaker() as session:
            action = await session.scalar(select(CaseAction))
            assert action is not None
            assert action.state == "pending"


class TestErasure:
    async def test_a_contact_filed_by_an_attempt_whose_answer_was_lost_is_erased(
        self, adapter, crm, sessionmaker
    ):
        report_id = uuid.uuid4()
        contact = ReporterContact(name="Ola", email="ola@example.org", lang="pl")
        body, headers = submitted_event("pothole", report_id, contact=contact)
        assert (
            await adapter.post("/internal/events", content=body, headers=headers)
        ).status_code == 202
        # The CRM files the case with the contact, and the answer never comes back.
        await faults(
            crm, {"kind": "reset_after_commit", "count": 1, "operations": ["create"]}
        )
        await pusher(sessionmaker, crm).run_once()
        [filed] = await crm_cases(crm, report_id)
        assert filed["reporter"] is not None
        assert (await case_of(sessionmaker, report_id)).state == "pending"

        # The reporter erases their account meanwhile.
        body, headers = erased_event(report_id)
        assert (
            await adapter.post("/internal/events", content=body, headers=headers)
        ).status_code == 202
        await make_due(sessionmaker)
        await pusher(sessionmaker, crm).run_once()  # finds the case filed before
        assert (await case_of(sessionmaker, report_id)).state == "created"
        assert await forwarder(sessionmaker, crm).run_once() == 1
        [filed] = await crm_cases(crm, report_id)
        assert filed["reporter"] is None


class TestReplay:
    async def test_a_creation_the_crm_has_after_all_makes_no_second_case(
        self, adapter, crm, sessionmaker
    ):
        report_id = await open_case(adapter)
        await faults(
            crm, {"kind": "reset_after_commit", "count": 1, "operations": ["create"]}
        )
        # No retry budget left: the ambiguous failure ends the delivery dead.
        await pusher(sessionmaker, crm, budget=dt.timedelta(0)).run_once()
        case = await case_of(sessionmaker, report_id)
        assert case.state == "dead"
        assert len(await crm_cases(crm, report_id)) == 1  # yet the CRM has it

        replayed = await adapter.post(
            f"/admin/deliveries/{case.id}/replay",
            json={"reason": "CRM back, check it"},
            headers=MANAGE,
        )
        assert replayed.status_code == 200, replayed.text
        body = replayed.json()
        assert (body["state"], body["attempts"], body["kind"]) == (
            "pending",
            0,
            "create",
        )
        assert body["next_attempt_at"] is not None
        assert await pusher(sessionmaker, crm).run_once() == 1

        [crm_case] = await crm_cases(crm, report_id)
        case = await case_of(sessionmaker, report_id)
        assert (case.state, case.crm_case_id) == ("created", crm_case["case_id"])
        logged = await delivery(adapter, case.id)
        assert [a["outcome"] for a in logged["log"]] == ["dead", "skipped_by_lookup"]
        assert logged["state"] == "done"

        audit = await adapter.get("/admin/actions", headers=MANAGE)
        [entry] = [a for a in audit.json()["items"] if a["action"] == "delivery.replay"]
        assert (entry["operator_name"], entry["target_id"], entry["details"]) == (
            "city-manager",
            str(case.id),
            {"kind": "create", "reason": "CRM back, check it"},
        )

    async def test_only_a_dead_delivery_and_only_with_the_manage_role(
        self, adapter, crm, sessionmaker
    ):
        report_id = await open_case(adapter)
        case = await case_of(sessionmaker, report_id)
        pending = await adapter.post(
            f"/admin/deliveries/{case.id}/replay", headers=MANAGE
        )
        assert pending.status_code == 409
        assert pending.json()["type"] == "urn:mam:problem:delivery-not-dead"
        assert "pending" in pending.json()["detail"]
        assert await pusher(sessionmaker, crm).run_once() == 1
        done = await adapter.post(f"/admin/deliveries/{case.id}/replay", headers=MANAGE)
        assert done.status_code == 409
        assert "done" in done.json()["detail"]
        reader = await adapter.post(f"/admin/deliveries/{case.id}/replay", headers=READ)
        assert reader.status_code == 403
        unknown = await adapter.post(
            f"/admin/deliveries/{uuid.uuid4()}/replay", headers=MANAGE
        )
        assert unknown.status_code == 404
        assert len(await crm_cases(crm, report_id)) == 1

    async def test_a_dead_action_holds_later_ones_until_replayed_once(
        self, adapter, crm, sessionmaker
    ):
        report_id = await open_case(adapter)
        assert await pusher(sessionmaker, crm).run_once() == 1
        reopen_id = uuid.uuid4()
        await send(adapter, reopen_event(report_id, reopen_id=reopen_id, comment="Nie"))
        await send(adapter, comment_event(report_id, comment="Nadal"))
        await faults(
            crm, {"kind": "error", "status": 404, "count": 1, "operations": ["reopen"]}
        )
        forward = forwarder(sessionmaker, crm)
        assert await forward.run_once() == 1
        assert (await delivery(adapter, reopen_id))["state"] == "dead"
        assert await forward.run_once() == 0  # the comment waits behind it

        replayed = await adapter.post(
            f"/admin/deliveries/{reopen_id}/replay", headers=MANAGE
        )
        assert replayed.status_code == 200
        assert replayed.json()["kind"] == "reopen"
        assert await forward.run_once() == 1
        assert await forward.run_once() == 1
        [crm_case] = await crm_cases(crm, report_id)
        assert [h["status"] for h in crm_case["history"]] == ["NEW", "REOPENED"]
        assert [c["comment"] for c in crm_case["comments"]] == ["Nadal"]
        logged = await delivery(adapter, reopen_id)
        assert [(a["attempt"], a["outcome"]) for a in logged["log"]] == [
            (1, "dead"),
            (1, "delivered"),
        ]
