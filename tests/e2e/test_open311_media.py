"""An Open311 client's `media_url` on the real processes: the request is filed at once and
reaches the city's CRM whatever its photo host does; a photo that arrives in time goes with
the case, and a link that never works stays for operators."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import defusedxml.ElementTree as SafeXml
import httpx
import pytest

from tests.e2e.conftest import FAST_RETRIES, Stack, StackOfItsOwn
from tests.e2e.test_flow import the_only_case
from tests.helpers import OPEN311_KEY, READ, eventually
from tests.photo_host import PhotoHost, photo_host

pytestmark = pytest.mark.e2e

V2 = "/open311/v2"
WAIT = 10.0
"""How long the hand-over waits for photos here (2 minutes by default)."""


@pytest.fixture(scope="module")
def media_stack(backend: str, stack_of_its_own: StackOfItsOwn) -> Iterator[Stack]:
    """Photos fetched from loopback (the test's photo host), within half a second an
    attempt, tried again within tenths of a second; the CRM gets a request after `WAIT`
    seconds at the latest."""
    yield from stack_of_its_own(
        backend,
        "open311-media",
        settings=FAST_RETRIES
        | {
            "INTAKE_OPEN311_MEDIA_ALLOW_PRIVATE_HOSTS": "true",
            "INTAKE_OPEN311_MEDIA_TIMEOUT_SECONDS": "0.5",
            "INTAKE_OPEN311_MEDIA_ATTEMPTS": "20",
            "INTAKE_OPEN311_MEDIA_RETRY_BASE_SECONDS": "0.1",
            "INTAKE_OPEN311_MEDIA_RETRY_CAP_SECONDS": "0.2",
            "INTAKE_OPEN311_MEDIA_WAIT_SECONDS": str(WAIT),
        },
    )


@pytest.fixture
async def host() -> AsyncIterator[PhotoHost]:
    async with photo_host() as host:
        yield host


async def file_request(intake: httpx.AsyncClient, media_url: str) -> dict[str, Any]:
    """File a request as FixMyStreet does (XML, one `media_url`); the report as residents
    see it."""
    filed = await intake.post(
        f"{V2}/requests.xml",
        data={
            "api_key": OPEN311_KEY,
            "service_code": "pothole",
            "lat": "51.107883",
            "long": "17.038538",
            "description": "Dziura przy przejściu, zdjęcie w załączniku",
            "media_url": media_url,
        },
    )
    assert filed.status_code == 200, filed.text
    [request] = SafeXml.fromstring(filed.content).findall("request")
    number = request.findtext("service_request_id")
    listed = (await intake.get("/v1/reports", params={"category": "pothole"})).json()
    [report] = [r for r in listed["items"] if r["number"] == number]
    return dict(report)


async def link_of(intake: httpx.AsyncClient, number: str) -> dict[str, Any]:
    """The request's link as operators see it."""
    response = await intake.get(
        "/v1/operator/open311/media", params={"report": number}, headers=READ
    )
    assert response.status_code == 200, response.text
    [link] = response.json()
    return dict(link)


async def test_a_host_that_never_answers_holds_nothing_up(media_stack, host):
    async with media_stack.intake_client() as intake, media_stack.crm_client() as crm:
        report = await file_request(intake, host.link("/hangs.jpg"))
        # Answered while the photo host still has not answered anything.
        assert await eventually(lambda: _asked(host, "/hangs.jpg"), what="a fetch")

        case = await the_only_case(crm, report["id"])
        assert case["photos"] == []
        assert case["description"] == "Dziura przy przejściu, zdjęcie w załączniku"
        link = await link_of(intake, report["number"])
        assert link["url"] == host.link("/hangs.jpg")
        assert link["failure"] == "unreachable"
        record = await intake.get(f"{V2}/requests/{report['number']}.json")
        assert "media_url" not in record.json()[0]


async def test_a_photo_that_comes_in_time_goes_with_the_case(media_stack, host):
    async with media_stack.intake_client() as intake, media_stack.crm_client() as crm:
        report = await file_request(intake, host.link("/later.jpg"))

        async def timed_out() -> bool:
            link = await link_of(intake, report["number"])
            return link["failure"] == "unreachable"

        await eventually(timed_out, what="a first attempt that timed out")
        host.answer_later()

        case = await the_only_case(crm, report["id"])
        # The CRM fetches the photo through its signed link, straight from intake.
        [photo_link] = case["photos"]
        async with httpx.AsyncClient() as outsider:
            photo = await outsider.get(photo_link)
        assert photo.status_code == 200
        assert photo.headers["content-type"] == "image/jpeg"
        assert b"Exif" not in photo.content[:200]

        link = await link_of(intake, report["number"])
        assert link["state"] == "fetched"
        assert link["attempts"] >= 2
        record = (await intake.get(f"{V2}/requests/{report['number']}.json")).json()
        assert record[0]["media_url"].startswith(media_stack.intake + "/v1/photos/")


async def test_a_missing_photo_is_given_up_at_once_and_the_link_stays(
    media_stack, host
):
    async with media_stack.intake_client() as intake, media_stack.crm_client() as crm:
        started = time.monotonic()
        report = await file_request(intake, host.link("/missing.jpg"))
        case = await the_only_case(crm, report["id"])
        # Given up at once, the report did not wait for the photo.
        assert time.monotonic() - started < WAIT
        assert case["photos"] == []

        link = await link_of(intake, report["number"])
        assert (link["state"], link["attempts"]) == ("failed", 1)
        assert (link["failure"], link["last_error"]) == ("status", "HTTP 404")
        assert link["url"] == host.link("/missing.jpg")
        assert host.asked("/missing.jpg") == 1
        record = (await intake.get(f"{V2}/requests/{report['number']}.json")).json()
        assert "media_url" not in record[0]


async def _asked(host: PhotoHost, path: str) -> bool:
    return host.asked(path) > 0
