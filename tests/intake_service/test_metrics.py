"""Intake's GET /metrics: the process's requests, event-loop lag and photo decoding, and the
figures counted from the database (reports, outbox, inbox, notification deliveries)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from intake_service.app import create_app
from intake_service.config import Settings
from intake_service.db import OutboxEvent
from intake_service.notifications.channels import EmailSender
from intake_service.notifications.delivery import DeliveryLoop
from intake_service.notifications.models import NotificationDelivery
from intake_service.worker import push_senders
from shared.contracts import ReportStatus
from shared.db import make_engine, make_sessionmaker, utcnow
from shared.guards import MAX_BODY_BYTES
from shared.retry import Backoff
from tests.helpers import OPEN311_KEY, POTHOLE, eventually, register_and_sign_in, serve
from tests.push_service import PushService, push_service
from tests.signed import status_event
from tests.smtp import Inbox

REQUESTS = "mam_http_request_duration_seconds_count"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """The samples of a /metrics page by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)


def requests(found: Samples) -> dict[tuple[str, str, str], float]:
    """Requests counted before this scrape, by (route, method, status class)."""
    return {
        (labels["route"], labels["method"], labels["status"]): value
        for (name, pairs), value in found.items()
        if name == REQUESTS and (labels := dict(pairs))
    }


def by_label(found: Samples, name: str, label: str) -> dict[str, float]:
    return {
        dict(pairs)[label]: value
        for (metric, pairs), value in found.items()
        if metric == name
    }


def by_labels(found: Samples, name: str) -> dict[tuple[str, ...], float]:
    """A metric's samples by their label values, in the labels' order."""
    return {
        tuple(value for _, value in pairs): sample
        for (metric, pairs), sample in found.items()
        if metric == name
    }


async def test_metrics_show_the_event_loop_lag_and_the_photo_decoding(intake):
    async def lag_sampled() -> str | None:
        text = (await intake.get("/metrics")).text
        return text if "mam_event_loop_lag_seconds_count 0.0" not in text else None

    text = await eventually(lag_sampled, what="a lag sample")
    response = await intake.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'mam_event_loop_lag_seconds_bucket{le="0.02"}' in text
    assert "mam_intake_photos_waiting 0.0" in text
    assert "mam_intake_photo_pixels_decoding 0.0" in text
    assert "mam_intake_photo_workers_running 0.0" in text
    assert "mam_intake_photo_worker_deaths_total 0.0" in text
    assert "process_resident_memory_bytes " in text
    assert 'python_gc_collections_total{generation="2"}' in text


async def test_metrics_are_documented_with_an_example(intake):
    operation = (await intake.get("/openapi.json")).json()["paths"]["/metrics"]["get"]
    assert "mam_event_loop_lag_seconds" in operation["description"]
    example = operation["responses"]["200"]["content"]["text/plain"]["example"]
    assert "mam_event_loop_lag_seconds_bucket" in example


async def test_every_metric_has_a_help_text_and_is_described(intake):
    await intake.get("/v1/categories")  # the requests' histogram has a series to show
    text = (await intake.get("/metrics")).text
    description = (await intake.get("/openapi.json")).json()["paths"]["/metrics"][
        "get"
    ]["description"]
    ours = [
        family
        for family in text_string_to_metric_families(text)
        # `_created`: when the client library made a histogram's series, for itself.
        if family.name.startswith("mam_") and not family.name.endswith("_created")
    ]
    assert {family.name for family in ours} >= {
        "mam_http_request_duration_seconds",
        "mam_intake_reports",
        "mam_intake_outbox_events",
        "mam_intake_outbox_oldest_pending_age_seconds",
        "mam_intake_inbox_unhandled",
        "mam_intake_inbox_oldest_unhandled_age_seconds",
        "mam_intake_notification_deliveries",
        "mam_intake_notification_attempts",
    }
    for family in ours:
        assert family.documentation.strip(), family.name
        exposed = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{exposed}" in description, exposed


class TestRequests:
    async def test_counted_by_route_template_never_by_path(self, intake):
        ids = [uuid.uuid4() for _ in range(3)]
        for report_id in ids:
            assert (await intake.get(f"/v1/reports/{report_id}")).status_code == 404
        assert (await intake.get("/v1/categories")).status_code == 200
        response = await intake.get("/metrics")
        found = requests(samples(response.text))
        assert found[("/v1/reports/{report_id}", "GET", "4xx")] == 3
        assert found[("/v1/categories", "GET", "2xx")] == 1
        for report_id in ids:
            assert str(report_id) not in response.text

    async def test_unknown_paths_share_one_label(self, intake):
        for path in ("/nothing-here", f"/v1/nope/{uuid.uuid4()}", "/wp-login.php"):
            assert (await intake.get(path)).status_code == 404
        first = requests(await scrape(intake))
        assert first[("unmatched", "GET", "4xx")] == 3
        for _ in range(2):
            await intake.get(f"/another/{uuid.uuid4()}")
        then = requests(await scrape(intake))
        assert then[("unmatched", "GET", "4xx")] == 5
        # Only the scrape of /metrics itself was new: the unknown paths made no series.
        assert then.keys() - first.keys() <= {("/metrics", "GET", "2xx")}

    async def test_included_routers_and_mounts_give_their_whole_template(self, intake):
        assert (await intake.get("/open311/v2/services.json")).status_code == 200
        assert (await intake.get("/open311/v2/services.xml")).status_code == 200
        assert (await intake.get("/static-offline-docs/nothing.js")).status_code == 404
        found = requests(await scrape(intake))
        assert found[("/open311/v2/services.{fmt}", "GET", "2xx")] == 2
        assert found[("/static-offline-docs/{path}", "GET", "4xx")] == 1

    async def test_a_refusal_before_routing_counts_under_its_route(self, intake):
        response = await intake.post(
            "/v1/auth/token", content=b"x" * (MAX_BODY_BYTES + 1)
        )
        assert response.status_code == 413
        found = requests(await scrape(intake))
        assert found[("/v1/auth/token", "POST", "4xx")] == 1

    async def test_an_unusual_method_counts_as_other(self, intake):
        assert (await intake.request("PURGE", "/v1/categories")).status_code == 405
        found = requests(await scrape(intake))
        assert found[("/v1/categories", "other", "4xx")] == 1

    async def test_each_process_counts_its_own(self, intake, intake_settings):
        await intake.get("/v1/categories")
        async for other in serve(create_app(intake_settings)):
            assert ("/v1/categories", "GET", "2xx") not in requests(await scrape(other))
        assert requests(await scrape(intake))[("/v1/categories", "GET", "2xx")] == 1


class TestReports:
    async def test_counted_by_category_and_channel_the_same_by_every_replica(
        self, intake, intake_settings
    ):
        empty = by_labels(await scrape(intake), "mam_intake_reports_total")
        assert empty[("pothole", "app")] == empty[("fallen_tree", "open311")] == 0
        for report in (POTHOLE, POTHOLE, POTHOLE | {"category": "fallen_tree"}):
            assert (await intake.post("/v1/reports", json=report)).status_code == 201
        filed = await intake.post(
            "/open311/v2/requests.json",
            data={
                "api_key": OPEN311_KEY,
                "service_code": "pothole",
                "lat": "51.1097",
                "long": "17.0326",
                "description": "Deep pothole on the right lane",
            },
        )
        assert filed.status_code == 200, filed.text
        async for other in serve(create_app(intake_settings)):
            for client in (intake, other):
                found = by_labels(await scrape(client), "mam_intake_reports_total")
                assert found[("pothole", "app")] == 2
                assert found[("pothole", "open311")] == 1
                assert found[("fallen_tree", "app")] == 1
                assert found[("fallen_tree", "open311")] == 0
                assert found[("flooding", "app")] == 0
                assert set(found) == set(empty)


class TestOutbox:
    async def test_pending_and_dead_events_and_the_oldest_ones_age(
        self, intake, intake_db, clock
    ):
        found = await scrape(intake)
        assert by_label(found, "mam_intake_outbox_events", "state") == {
            "pending": 0,
            "dead": 0,
        }
        assert found[("mam_intake_outbox_oldest_pending_age_seconds", ())] == 0

        for _ in range(2):
            assert (await intake.post("/v1/reports", json=POTHOLE)).status_code == 201
        clock.advance(dt.timedelta(minutes=10))
        found = await scrape(intake)
        assert by_label(found, "mam_intake_outbox_events", "state")["pending"] == 2
        age = found[("mam_intake_outbox_oldest_pending_age_seconds", ())]
        assert 600 <= age < 660

        # Out of retries: dead, no longer waiting to be sent.
        await intake_db.execute(update(OutboxEvent).values(status="dead"))
        await intake_db.commit()
        found = await scrape(intake)
        assert by_label(found, "mam_intake_outbox_events", "state") == {
            "pending": 0,
            "dead": 2,
        }
        assert found[("mam_intake_outbox_oldest_pending_age_seconds", ())] == 0


class TestInbox:
    async def test_unhandled_messages_and_the_oldest_ones_age(self, intake, clock):
        found = await scrape(intake)
        assert by_label(found, "mam_intake_inbox_unhandled", "source") == {"adapter": 0}
        assert found[("mam_intake_inbox_oldest_unhandled_age_seconds", ())] == 0

        # A status change about a report intake does not have: kept for an operator.
        body, headers = status_event(uuid.uuid4(), ReportStatus.RESOLVED, 1)
        response = await intake.post("/internal/events", content=body, headers=headers)
        assert response.status_code == 202
        clock.advance(dt.timedelta(minutes=5))
        found = await scrape(intake)
        assert by_label(found, "mam_intake_inbox_unhandled", "source") == {"adapter": 1}
        age = found[("mam_intake_inbox_oldest_unhandled_age_seconds", ())]
        assert 300 <= age < 360


ANDROID = "fcm-token-of-annas-android-phone"


@pytest.fixture
async def push(tmp_path: Path) -> AsyncIterator[PushService]:
    async for service in push_service(tmp_path):
        yield service


@pytest.fixture
async def loop(
    intake_settings: Settings, push: PushService, smtp
) -> AsyncIterator[DeliveryLoop]:
    """The notification loop, pushing to the stand-in push service and mailing to the
    test's SMTP server."""
    settings = intake_settings.model_copy(
        update={
            "push_fcm_credentials_file": push.fcm_credentials,
            "push_fcm_url": push.url,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp[1],
            "smtp_security": "none",
        }
    )
    engine = make_engine(settings.database_url)
    async with httpx.AsyncClient() as client:
        yield DeliveryLoop(
            sessionmaker=make_sessionmaker(engine),
            push=push_senders(settings, client, client),
            email=EmailSender(settings.mailer(), settings.mail_from),
            backoff=Backoff(base=2.0, cap=60.0, budget=dt.timedelta(hours=1)),
        )
    await engine.dispose()


class TestNotificationDeliveries:
    async def test_waiting_dead_and_the_attempts_by_channel(
        self, intake, intake_db, loop, push: PushService, inbox: Inbox
    ):
        push.gone.add(ANDROID)  # the app was uninstalled: that push is dead at once
        inbox.fail_next = 1  # the mail server fails the first try
        headers = await register_and_sign_in(intake, "anna@example.org")
        device = {"platform": "android", "token": ANDROID}
        assert (
            await intake.post("/v1/me/devices", json=device, headers=headers)
        ).status_code == 201
        report = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        body, signed = status_event(report.json()["id"], ReportStatus.IN_PROGRESS, 1)
        assert (
            await intake.post("/internal/events", content=body, headers=signed)
        ).status_code == 202

        def deliveries(found: Samples) -> dict[tuple[str, str], float]:
            return {
                (labels["channel"], labels["state"]): value
                for (name, pairs), value in found.items()
                if name == "mam_intake_notification_deliveries"
                and (labels := dict(pairs))
            }

        def attempts(found: Samples) -> dict[tuple[str, str], float]:
            return {
                (labels["channel"], labels["outcome"]): value
                for (name, pairs), value in found.items()
                if name == "mam_intake_notification_attempts"
                and (labels := dict(pairs))
            }

        found = await scrape(intake)
        assert deliveries(found) == {
            ("email", "pending"): 1,
            ("email", "dead"): 0,
            ("push", "pending"): 1,
            ("push", "dead"): 0,
        }
        assert set(attempts(found).values()) == {0}

        assert await loop.run_once() == 2
        found = await scrape(intake)
        assert deliveries(found) == {
            ("email", "pending"): 1,
            ("email", "dead"): 0,
            ("push", "pending"): 0,
            ("push", "dead"): 1,
        }
        assert attempts(found) == {
            ("email", "sent"): 0,
            ("email", "failed"): 1,
            ("push", "sent"): 0,
            ("push", "failed"): 1,
        }

        await intake_db.execute(
            update(NotificationDelivery).values(next_attempt_at=utcnow())
        )
        await intake_db.commit()
        assert await loop.run_once() == 1
        found = await scrape(intake)
        assert deliveries(found)[("email", "pending")] == 0
        assert attempts(found) == {
            ("email", "sent"): 1,
            ("email", "failed"): 1,
            ("push", "sent"): 0,
            ("push", "failed"): 1,
        }
