"""Limits on what residents write, per client address, account and device: a flood is
refused with 429 before anything of it is stored, and everyone else goes on."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from intake_service.app import create_app
from intake_service.db import OutboxEvent
from intake_service.ideas.models import Idea
from intake_service.photos.models import Photo
from intake_service.reports.models import Report
from tests.helpers import POTHOLE, AppClient, register_and_sign_in, serve
from tests.images import blank_png
from tests.intake_service.helpers import multipart

WINDOW = 3600
IDEA = {"text": "Więcej ławek w parku"}


@pytest.fixture
async def strict(intake_settings):
    """Intake allowing 3 reports and 3 other writes per address, 2 of each per account or
    device, and 2 photos per address."""
    settings = intake_settings.model_copy(
        update={
            "throttle_reports_per_client": 3,
            "throttle_reports_per_account": 2,
            "throttle_photos_per_client": 2,
            "throttle_writes_per_client": 3,
            "throttle_writes_per_account": 2,
        }
    )
    async for client in serve(create_app(settings)):
        yield client


def at(client: AppClient, address: str) -> AppClient:
    """A client of the same running app from another address."""
    return AppClient(client.app, address=address)


def assert_refused(response, *, title: str) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:mam:problem:too-many-requests"
    assert problem["title"] == title
    assert 0 < int(response.headers["retry-after"]) <= WINDOW


async def count(session, model) -> int:
    return (await session.scalar(select(func.count()).select_from(model))) or 0


class TestReports:
    async def test_a_flood_from_one_address_is_refused_and_nothing_of_it_stored(
        self, strict, intake_session
    ):
        for _ in range(3):
            assert (await strict.post("/v1/reports", json=POTHOLE)).status_code == 201
        refused = await strict.post(
            "/v1/reports", json=POTHOLE, headers={"Accept-Language": "de"}
        )
        assert_refused(refused, title="Zu viele Anfragen")
        assert "erneut" in refused.json()["detail"]
        polish = await strict.post("/v1/reports", json=POTHOLE)
        assert_refused(polish, title="Zbyt wiele żądań")
        assert await count(intake_session, Report) == 3
        assert await count(intake_session, OutboxEvent) == 3
        # Another resident is not held up by it.
        async with at(strict, "203.0.113.7") as other:
            assert (await other.post("/v1/reports", json=POTHOLE)).status_code == 201

    async def test_a_flooding_address_is_refused_before_its_request_is_read(
        self, strict, intake_session
    ):
        for _ in range(3):
            await strict.post("/v1/reports", json=POTHOLE)
        assert_refused(
            await strict.post("/v1/reports", json=POTHOLE), title="Zbyt wiele żądań"
        )
        # Not even read now: a body that is no JSON is refused, not found wrong.
        unread = await strict.post(
            "/v1/reports",
            content=b"not json",
            headers={"Content-Type": "application/json", "Accept-Language": "en"},
        )
        assert_refused(unread, title="Too many requests")
        # Its other writes have limits of their own.
        assert (await strict.post("/v1/ideas", json=IDEA)).status_code == 201
        assert await count(intake_session, Report) == 3

    async def test_the_early_refusal_ends_with_the_window(self, strict, clock):
        for _ in range(4):
            await strict.post("/v1/reports", json=POTHOLE)
        clock.advance(dt.timedelta(seconds=WINDOW + 1))
        assert (await strict.post("/v1/reports", json=POTHOLE)).status_code == 201

    async def test_an_ipv6_client_is_counted_by_its_64_network(self, strict):
        for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:aa::3"):
            async with at(strict, host) as client:
                assert (
                    await client.post("/v1/reports", json=POTHOLE)
                ).status_code == 201
        async with at(strict, "2001:db8:1:2:ffff::9") as same_line:
            assert_refused(
                await same_line.post("/v1/reports", json=POTHOLE),
                title="Zbyt wiele żądań",
            )
        async with at(strict, "2001:db8:1:3::1") as next_line:
            assert (
                await next_line.post("/v1/reports", json=POTHOLE)
            ).status_code == 201

    async def test_an_account_is_counted_wherever_it_files_from(self, strict):
        headers = await register_and_sign_in(strict, "ola@example.org")
        for address in ("198.51.100.1", "198.51.100.2"):
            async with at(strict, address) as client:
                response = await client.post(
                    "/v1/reports", json=POTHOLE, headers=headers
                )
                assert response.status_code == 201
        async with at(strict, "198.51.100.3") as client:
            assert_refused(
                await client.post("/v1/reports", json=POTHOLE, headers=headers),
                title="Zbyt wiele żądań",
            )
            # Anonymous from there it is another resident.
            assert (await client.post("/v1/reports", json=POTHOLE)).status_code == 201

    async def test_a_device_id_is_counted_when_the_app_sends_one(self, strict):
        device = {"X-Device-Id": "3b1f2c9e-7d7a-4f0e-9c55-0e1c5a0b2d11"}
        for address in ("198.51.100.1", "198.51.100.2"):
            async with at(strict, address) as client:
                response = await client.post(
                    "/v1/reports", json=POTHOLE, headers=device
                )
                assert response.status_code == 201
        async with at(strict, "198.51.100.3") as client:
            assert_refused(
                await client.post("/v1/reports", json=POTHOLE, headers=device),
                title="Zbyt wiele żądań",
            )

    async def test_photos_count_one_by_one(self, strict, intake_session):
        png = ("a.png", blank_png(64, 48), "image/png")
        two = await strict.post("/v1/reports", files=multipart(POTHOLE, png, png))
        assert two.status_code == 201
        refused = await strict.post("/v1/reports", files=multipart(POTHOLE, png))
        assert_refused(refused, title="Zbyt wiele żądań")
        assert await count(intake_session, Report) == 1
        assert await count(intake_session, Photo) == 2
        # A report without photos is still taken.
        assert (await strict.post("/v1/reports", json=POTHOLE)).status_code == 201


class TestOtherWrites:
    async def test_ideas_and_me_too_share_one_limit(self, strict, intake_session):
        async with at(strict, "203.0.113.7") as reporter:
            report = (await reporter.post("/v1/reports", json=POTHOLE)).json()
        assert (await strict.post("/v1/ideas", json=IDEA)).status_code == 201
        assert (await strict.post("/v1/ideas", json=IDEA)).status_code == 201
        support = await strict.post(
            f"/v1/reports/{report['id']}/supporters",
            headers={"X-Device-Id": "device-0001"},
        )
        assert support.status_code == 201
        assert_refused(
            await strict.post("/v1/ideas", json=IDEA), title="Zbyt wiele żądań"
        )
        assert await count(intake_session, Idea) == 2
        # Reports have limits of their own.
        assert (await strict.post("/v1/reports", json=POTHOLE)).status_code == 201
