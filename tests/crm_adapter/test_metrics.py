"""The adapter's GET /metrics beyond the cases: the delivery log's attempts, how long a
breaker has been open, the outbox's and inbox's backlog, and the process's requests."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from crm_adapter.app import create_app
from crm_adapter.db import OutboxEvent
from tests.crm_adapter.deliveries import case_of, make_due, pusher
from tests.crm_adapter.fake_crm import Answer
from tests.crm_adapter.helpers import hook, open_case, samples, send
from tests.helpers import MANAGE, READ, serve
from tests.signed import reopen_event

pytestmark = pytest.mark.usefixtures("close_clients")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)


def labelled(found: Samples, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    """The samples of `name` by the values of `labels`."""
    return {
        tuple(dict(pairs)[label] for label in labels): value
        for (metric, pairs), value in found.items()
        if metric == name
    }


class TestDeliveryAttempts:
    async def test_every_attempt_counted_by_connector_kind_and_outcome(
        self, adapter, adapter_settings, crm, sessionmaker
    ):
        name = "mam_adapter_delivery_attempts_total"
        empty = labelled(await scrape(adapter), name, "connector", "kind", "outcome")
        assert len(empty) == 2 * 4 * 4  # connectors, kinds, outcomes
        assert set(empty.values()) == {0}

        await open_case(adapter)
        assert await pusher(sessionmaker, Answer(503)).run_once() == 1  # retried
        await make_due(sessionmaker)
        assert await pusher(sessionmaker, crm).run_once() == 1  # delivered
        await open_case(adapter)
        assert await pusher(sessionmaker, Answer(422)).run_once() == 1  # dead

        async for other in serve(create_app(adapter_settings)):
            for client in (adapter, other):
                found = labelled(
                    await scrape(client), name, "connector", "kind", "outcome"
                )
                nonzero = {key: n for key, n in found.items() if n}
                assert nonzero == {
                    ("rest_json", "create", "retry"): 1,
                    ("rest_json", "create", "delivered"): 1,
                    ("rest_json", "create", "dead"): 1,
                }
                assert found.keys() == empty.keys()
        # The dead one waits for an operator's replay.
        waiting = labelled(
            await scrape(adapter),
            "mam_adapter_deliveries",
            "connector",
            "kind",
            "state",
        )
        assert waiting[("rest_json", "create", "dead")] == 1


class TestBreaker:
    async def test_open_seconds_from_opening_until_it_closes(self, adapter, clock):
        name = "mam_adapter_breaker_open_seconds"
        assert labelled(await scrape(adapter), name, "connector") == {
            ("open311",): 0,
            ("rest_json",): 0,
        }
        tripped = await adapter.post(
            "/admin/connectors/rest_json/trip", json={"seconds": 600}, headers=MANAGE
        )
        assert tripped.status_code == 200, tripped.text
        # Open for its ten minutes, then half-open: not closed yet either.
        for state, advance, minutes in ((1.0, 5, 5), (0.5, 15, 20)):
            clock.advance(dt.timedelta(minutes=advance))
            found = await scrape(adapter)
            rest_json = ("rest_json",)
            assert (
                labelled(found, "mam_adapter_breaker_state", "connector")[rest_json]
                == state
            )
            open_for = labelled(found, name, "connector")[rest_json]
            assert minutes * 60 <= open_for < minutes * 60 + 60

        reset = await adapter.post("/admin/connectors/rest_json/reset", headers=MANAGE)
        assert reset.status_code == 200, reset.text
        assert labelled(await scrape(adapter), name, "connector") == {
            ("open311",): 0,
            ("rest_json",): 0,
        }


class TestBacklog:
    async def test_events_for_intake_pending_dead_and_the_oldest_ones_age(
        self, adapter, crm, sessionmaker, clock
    ):
        found = await scrape(adapter)
        assert labelled(found, "mam_adapter_outbox_events", "state") == {
            ("pending",): 0,
            ("dead",): 0,
        }
        report_id = await open_case(adapter)
        assert (
            await pusher(sessionmaker, crm).run_once() == 1
        )  # intake hears "submitted"
        case = await case_of(sessionmaker, report_id)
        assert case.crm_case_id is not None
        response = await hook(
            adapter,
            case_id=case.crm_case_id,
            external_ref=str(report_id),
            status="IN_PROGRESS",
            version=2,
        )
        assert response.status_code == 202, response.text
        clock.advance(dt.timedelta(minutes=10))

        found = await scrape(adapter)
        assert labelled(found, "mam_adapter_outbox_events", "state") == {
            ("pending",): 2,
            ("dead",): 0,
        }
        age = found[("mam_adapter_outbox_oldest_pending_age_seconds", ())]
        assert 600 <= age < 660

        async with sessionmaker() as session:
            await session.execute(update(OutboxEvent).values(status="dead"))
            await session.commit()
        found = await scrape(adapter)
        assert labelled(found, "mam_adapter_outbox_events", "state") == {
            ("pending",): 0,
            ("dead",): 2,
        }
        assert found[("mam_adapter_outbox_oldest_pending_age_seconds", ())] == 0

    async def test_unhandled_messages_and_the_oldest_ones_age(self, adapter, clock):
        found = await scrape(adapter)
        assert labelled(found, "mam_adapter_inbox_unhandled", "source") == {
            ("intake",): 0
        }
        assert found[("mam_adapter_inbox_oldest_unhandled_age_seconds", ())] == 0
        await send(adapter, reopen_event(uuid.uuid4()))  # no case to reopen: kept
        clock.advance(dt.timedelta(minutes=3))
        found = await scrape(adapter)
        assert labelled(found, "mam_adapter_inbox_unhandled", "source") == {
            ("intake",): 1
        }
        age = found[("mam_adapter_inbox_oldest_unhandled_age_seconds", ())]
        assert 180 <= age < 240


class TestRequests:
    async def test_counted_by_route_template_never_by_path(self, adapter):
        ids = [uuid.uuid4() for _ in range(2)]
        for delivery_id in ids:
            response = await adapter.get(
                f"/admin/deliveries/{delivery_id}", headers=READ
            )
            assert response.status_code == 404
        assert (await adapter.get("/admin/cases", headers=READ)).status_code == 200
        assert (await adapter.get(f"/nothing/{ids[0]}")).status_code == 404
        response = await adapter.get("/metrics")
        found = labelled(
            samples(response.text),
            "mam_http_request_duration_seconds_count",
            "route",
            "method",
            "status",
        )
        assert found == {
            ("/admin/deliveries/{delivery_id}", "GET", "4xx"): 2,
            ("/admin/cases", "GET", "2xx"): 1,
            ("unmatched", "GET", "4xx"): 1,
        }
        for delivery_id in ids:
            assert str(delivery_id) not in response.text

    async def test_described_with_a_help_text_each(self, adapter):
        await adapter.get("/healthz")
        text = (await adapter.get("/metrics")).text
        operation = (await adapter.get("/openapi.json")).json()["paths"]["/metrics"]
        description = operation["get"]["description"]
        for family in text_string_to_metric_families(text):
            if family.name.endswith("_created"):
                continue  # the client library's own timestamps of a histogram's series
            assert family.name.startswith("mam_"), family.name
            assert family.documentation.strip(), family.name
            exposed = family.name + ("_total" if family.type == "counter" else "")
            assert f"`{exposed}" in description, exposed
