"""An Open311 request's `media_url`: filed at once, its photo fetched in the background.

The fetch loop is driven step by step here (`MediaFetcher.run_once`); the whole way through
the real processes, to the CRM, is in tests/e2e/test_open311_media.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, update

from intake_service.config import Settings
from intake_service.db import OutboxEvent
from intake_service.open311.media_fetch import MediaFetcher
from shared.db import make_engine, make_sessionmaker
from shared.outbox import PENDING, SENT
from tests.helpers import READ, eventually
from tests.images import decoded
from tests.intake_service.test_open311 import FORM, V2, error_of, records
from tests.photo_host import PhotoHost, photo_host

WAIT = 120.0


@pytest.fixture
async def host() -> AsyncIterator[PhotoHost]:
    async with photo_host() as host:
        yield host


@pytest.fixture
def intake_settings(intake_settings: Settings) -> Settings:
    """Loopback hosts allowed (the photo host is one), short time limits and retries."""
    return intake_settings.model_copy(
        update={
            "open311_media_allow_private_hosts": True,
            "open311_media_timeout_seconds": 0.5,
            "open311_media_attempts": 3,
            "open311_media_retry_base_seconds": 0.01,
            "open311_media_retry_cap_seconds": 0.02,
            "open311_media_wait_seconds": WAIT,
        }
    )


def fetcher_of(intake: Any, settings: Settings) -> MediaFetcher:
    """A fetch loop on the app's database and photo store, stepped by the test."""
    return MediaFetcher(
        sessionmaker=intake.app.state.sessionmaker,
        photos=intake.app.state.photos,
        settings=settings,
    )


@pytest.fixture
def fetcher(intake: Any, intake_settings: Settings) -> MediaFetcher:
    return fetcher_of(intake, intake_settings)


async def file_with_links(intake: Any, *urls: str, fmt: str = "xml") -> dict[str, Any]:
    """File a request with `urls` as its `media_url`s; the report as residents see it."""
    response = await intake.post(
        f"{V2}/requests.{fmt}", data={**FORM, "media_url": list(urls)}
    )
    assert response.status_code == 200, response.text
    [answer] = records(response, fmt)
    listed = (await intake.get("/v1/reports")).json()["items"]
    [report] = [r for r in listed if r["number"] == answer["service_request_id"]]
    return dict(report)


async def record_of(intake: Any, number: str, fmt: str = "json") -> dict[str, str]:
    [record] = records(await intake.get(f"{V2}/requests/{number}.{fmt}"), fmt)
    return record


async def links(intake: Any, **params: str) -> list[dict[str, Any]]:
    response = await intake.get(
        "/v1/operator/open311/media", params=params, headers=READ
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def handover(
    settings: Settings, report_id: str, status: str = PENDING
) -> tuple[dict[str, Any], Any]:
    """The report's `report.submitted.v1` as the relay would send it, and when it is due."""
    engine = make_engine(settings.database_url, read_only=True)
    try:
        async with make_sessionmaker(engine)() as session:
            row = await session.scalar(
                select(OutboxEvent).where(
                    OutboxEvent.aggregate_id == uuid.UUID(report_id),
                    OutboxEvent.event_type == "report.submitted.v1",
                )
            )
    finally:
        await engine.dispose()
    assert row is not None
    assert row.status == status
    event: dict[str, Any] = json.loads(row.payload)["event"]
    return event, row.next_attempt_at


async def test_the_request_is_filed_at_once_and_the_photo_comes_after(
    intake, host, fetcher, intake_settings
):
    report = await file_with_links(intake, host.link("/photo.jpg"))
    # Answered with nothing fetched yet; the CRM's copy waits for the photo.
    assert host.requests == []
    assert "media_url" not in await record_of(intake, report["number"])
    event, due = await handover(intake_settings, report["id"])
    assert event["photo_ids"] == []
    assert due > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=WAIT - 30)
    [link] = await links(intake, report=report["number"])
    assert (link["url"], link["state"]) == (host.link("/photo.jpg"), "pending")

    assert await fetcher.run_once() == 1

    record = await record_of(intake, report["number"])
    photo = await intake.get(record["media_url"])
    assert photo.headers["content-type"] == "image/jpeg"
    assert b"Exif" not in photo.content[:200]
    assert decoded(photo.content).size == (64, 48)
    [photo_id] = [
        p["id"]
        for p in (await intake.get(f"/v1/reports/{report['id']}")).json()["photos"]
    ]
    event, due = await handover(intake_settings, report["id"])
    assert event["photo_ids"] == [photo_id]
    # Due now: the CRM gets the report with its photo without waiting any longer.
    assert due <= dt.datetime.now(dt.UTC)
    [link] = await links(intake, report=report["number"])
    assert (link["state"], link["photo_id"], link["attempts"]) == (
        "fetched",
        photo_id,
        1,
    )
    assert await fetcher.run_once() == 0
    assert host.asked("/photo.jpg") == 1


async def test_several_links_become_the_photos_in_order(
    intake, host, fetcher, intake_settings
):
    report = await file_with_links(
        intake, host.link("/photo.jpg"), host.link("/large.jpg")
    )
    assert await fetcher.run_once() == 2
    found = (await intake.get(f"/v1/reports/{report['id']}")).json()["photos"]
    assert len(found) == 2
    event, due = await handover(intake_settings, report["id"])
    assert sorted(event["photo_ids"]) == sorted(p["id"] for p in found)
    assert due <= dt.datetime.now(dt.UTC)


async def test_a_host_that_does_not_answer_is_tried_again_until_it_does(
    intake, host, fetcher, intake_settings
):
    report = await file_with_links(intake, host.link("/later.jpg"))
    await fetcher.run_once()
    [link] = await links(intake, report=report["number"], lang="en")
    assert (link["state"], link["attempts"], link["failure"]) == (
        "pending",
        1,
        "unreachable",
    )
    assert link["failure_text"] == "the server did not answer in time."
    _, due = await handover(intake_settings, report["id"])
    assert due > dt.datetime.now(dt.UTC)  # still waiting for the photo

    host.answer_later()

    async def fetched() -> dict[str, str] | None:
        await fetcher.run_once()
        record = await record_of(intake, report["number"])
        return record if "media_url" in record else None

    await eventually(fetched, what="the photo, once its host answers")
    [link] = await links(intake, report=report["number"])
    assert (link["state"], link["attempts"]) == ("fetched", 2)


async def test_a_server_error_is_tried_again(intake, host, fetcher, intake_settings):
    host.flaky = 2
    report = await file_with_links(intake, host.link("/flaky.jpg"))

    async def fetched() -> bool:
        await fetcher.run_once()
        [link] = await links(intake, report=report["number"])
        return link["state"] == "fetched"

    await eventually(fetched, what="the photo after two 503s")
    assert host.asked("/flaky.jpg") == 3


async def test_attempts_run_out_and_the_report_goes_on_without_the_photo(
    intake, host, fetcher, intake_settings
):
    report = await file_with_links(intake, host.link("/hangs.jpg"))

    async def given_up() -> dict[str, Any] | None:
        await fetcher.run_once()
        [link] = await links(intake, report=report["number"])
        return link if link["state"] == "failed" else None

    link = await eventually(given_up, what="the link given up")
    assert (link["attempts"], link["failure"]) == (3, "unreachable")
    assert host.asked("/hangs.jpg") == 3
    event, due = await handover(intake_settings, report["id"])
    assert event["photo_ids"] == []
    assert due <= dt.datetime.now(dt.UTC)
    assert "media_url" not in await record_of(intake, report["number"])


@pytest.mark.parametrize(
    ("path", "failure", "error"),
    [
        ("/missing.jpg", "status", "HTTP 404"),
        ("/moved.jpg", "status", "HTTP 302"),
        ("/huge.jpg", "too_large", "too_large"),
        ("/note.txt", "not_a_photo", "photo-unsupported-type"),
    ],
)
async def test_a_link_that_cannot_work_is_given_up_at_once_and_stays_for_operators(
    intake, host, fetcher, intake_settings, path, failure, error
):
    report = await file_with_links(intake, host.link(path))
    await fetcher.run_once()
    [link] = await links(intake, report=report["number"], lang="de")
    assert (link["state"], link["attempts"]) == ("failed", 1)
    assert (link["failure"], link["last_error"]) == (failure, error)
    assert link["url"] == host.link(path)
    assert link["failure_text"]  # in German
    assert host.asked(path) == 1
    # The report went on at once, and nothing else was lost.
    event, due = await handover(intake_settings, report["id"])
    assert due <= dt.datetime.now(dt.UTC)
    assert event["description"] == FORM["description"]
    assert "media_url" not in await record_of(intake, report["number"])
    failed = await links(intake, state="failed")
    assert report["number"] in [f["report_number"] for f in failed]
    assert await fetcher.run_once() == 0


async def test_the_links_are_for_operators_only(intake, host):
    await file_with_links(intake, host.link("/photo.jpg"))
    response = await intake.get("/v1/operator/open311/media")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_two_workers_never_fetch_one_link(intake, host, intake_settings):
    report = await file_with_links(intake, host.link("/photo.jpg"))
    first, second = (
        fetcher_of(intake, intake_settings),
        fetcher_of(intake, intake_settings),
    )
    taken = await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(taken) == [0, 1]
    assert host.asked("/photo.jpg") == 1
    found = (await intake.get(f"/v1/reports/{report['id']}")).json()["photos"]
    assert len(found) == 1


async def test_a_retry_with_the_same_key_queues_nothing_more(intake, host, fetcher):
    sent = {**FORM, "media_url": host.link("/photo.jpg")}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await intake.post(f"{V2}/requests.json", data=sent, headers=key)
    again = await intake.post(f"{V2}/requests.json", data=sent, headers=key)
    assert first.json() == again.json()
    [answer] = first.json()
    assert len(await links(intake, report=answer["service_request_id"])) == 1


async def test_a_link_too_long_for_a_photo_is_a_400(intake):
    response = await intake.post(
        f"{V2}/requests.json",
        data={**FORM, "media_url": "https://example.org/" + "a" * 2100},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert error_of(response, "json") == (400, "media_url: at most 2048 characters.")
    assert (await intake.get("/v1/reports")).json()["items"] == []


class TestPrivateAddresses:
    @pytest.fixture
    def intake_settings(self, intake_settings: Settings) -> Settings:
        return intake_settings.model_copy(
            update={"open311_media_allow_private_hosts": False}
        )

    async def test_a_private_address_is_given_up_and_never_shown(
        self, intake, host, fetcher, intake_settings
    ):
        report = await file_with_links(intake, host.link("/photo.jpg"))
        await fetcher.run_once()
        assert host.requests == []
        [link] = await links(intake, report=report["number"], lang="en")
        assert (link["state"], link["failure"]) == ("failed", "private")
        assert link["failure_text"] == "the address is not a public one."
        record = await intake.get(f"{V2}/requests/{report['number']}.xml")
        assert "127.0.0.1" not in record.text
        _, due = await handover(intake_settings, report["id"])
        assert due <= dt.datetime.now(dt.UTC)


class TestAddresses:
    """The fetch connects to the very address that was checked."""

    async def test_the_photo_comes_from_the_address_that_was_checked(
        self, intake, host, fetcher, monkeypatch
    ):
        """A name that resolves to one address when checked and to another (or to none)
        afterwards is fetched from the first: DNS rebinding cannot redirect the fetch."""
        loop = asyncio.get_running_loop()
        resolve = loop.getaddrinfo
        port = int(host.url.rsplit(":", 1)[1])
        lookups: list[str] = []

        async def rebinding(name, *args, **kwargs):
            if name != "photos.example.org":
                return await resolve(name, *args, **kwargs)
            lookups.append(name)
            if len(lookups) > 1:
                raise socket.gaierror(socket.EAI_NONAME, "rebound")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        monkeypatch.setattr(loop, "getaddrinfo", rebinding)
        report = await file_with_links(
            intake, f"http://photos.example.org:{port}/photo.jpg"
        )
        await fetcher.run_once()
        assert lookups == ["photos.example.org"]
        assert host.requests == [("/photo.jpg", f"photos.example.org:{port}")]
        assert "media_url" in await record_of(intake, report["number"])

    async def test_the_next_address_is_tried_when_one_refuses(
        self, intake, host, fetcher, monkeypatch
    ):
        loop = asyncio.get_running_loop()
        resolve = loop.getaddrinfo
        port = int(host.url.rsplit(":", 1)[1])

        async def two_addresses(name, *args, **kwargs):
            if name != "photos.example.org":
                return await resolve(name, *args, **kwargs)
            # Nothing listens on 127.0.0.2: that connection is refused.
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in ("127.0.0.2", "127.0.0.1")
            ]

        monkeypatch.setattr(loop, "getaddrinfo", two_addresses)
        report = await file_with_links(
            intake, f"http://photos.example.org:{port}/photo.jpg"
        )
        await fetcher.run_once()
        assert host.requests == [("/photo.jpg", f"photos.example.org:{port}")]
        assert "media_url" in await record_of(intake, report["number"])


async def test_a_link_whose_worker_died_is_taken_over_after_its_lease(
    intake, host, intake_settings, clock
):
    report = await file_with_links(intake, host.link("/photo.jpg"))
    dead = fetcher_of(intake, intake_settings)
    assert len(await dead._claim()) == 1  # claimed, and never tried: its worker died
    survivor = fetcher_of(intake, intake_settings)
    assert await survivor.run_once() == 0  # held by the lease

    clock.advance(dt.timedelta(minutes=2))
    assert await survivor.run_once() == 1
    [link] = await links(intake, report=report["number"])
    assert (link["state"], link["attempts"]) == ("fetched", 2)
    assert host.asked("/photo.jpg") == 1


async def test_a_photo_after_the_hand_over_went_stays_on_the_report_only(
    intake, host, fetcher, intake_settings, intake_db
):
    report = await file_with_links(intake, host.link("/later.jpg"))
    await fetcher.run_once()  # times out
    # The wait ended: the relay sent the report to the adapter without the photo.
    await intake_db.execute(
        update(OutboxEvent)
        .where(OutboxEvent.aggregate_id == uuid.UUID(report["id"]))
        .values(status=SENT, attempts=1)
    )
    await intake_db.commit()
    host.answer_later()

    async def fetched() -> dict[str, str] | None:
        await fetcher.run_once()
        record = await record_of(intake, report["number"])
        return record if "media_url" in record else None

    await eventually(fetched, what="the photo, once its host answers")
    # What the adapter got is left as it was: one version of each event.
    event, _ = await handover(intake_settings, report["id"], status=SENT)
    assert event["photo_ids"] == []
