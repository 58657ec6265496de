"""Photos through the time-limited signed links the adapter hands to CRMs."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest

from crm_adapter.crm.photos import PhotoLinks
from shared.settings import DEV_SECRETS
from tests.helpers import POTHOLE
from tests.images import RED, encode, with_corner
from tests.intake_service.helpers import multipart

JPEG = ("street.jpg", encode(with_corner((400, 300), RED), "JPEG"), "image/jpeg")


def links(
    secret: str = DEV_SECRETS["photo_urls"], ttl: dt.timedelta = dt.timedelta(days=7)
) -> PhotoLinks:
    return PhotoLinks(intake_url="http://test", secret=secret, ttl=ttl)


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
async def photo(intake) -> dict:
    response = await intake.post("/v1/reports", files=multipart(POTHOLE, JPEG))
    assert response.status_code == 201, response.text
    photo: dict = response.json()["photos"][0]
    return photo


class TestSignedPhotoLink:
    async def test_a_valid_link_gives_the_photo(self, intake, photo):
        [url] = links().urls([photo["id"]])
        response = await intake.get(path_and_query(url))
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        plain = await intake.get(photo["url"])
        assert response.content == plain.content

    @pytest.mark.parametrize(
        ("lang", "words"), [("pl", "wygasł"), ("de", "abgelaufen"), ("en", "expired")]
    )
    async def test_an_expired_link_is_refused_in_the_readers_language(
        self, intake, photo, lang, words
    ):
        week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
        [url] = links(ttl=dt.timedelta(days=1)).urls([photo["id"]], now=week_ago)
        response = await intake.get(
            path_and_query(url), headers={"Accept-Language": lang}
        )
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("photo-link-invalid")
        assert words in problem["detail"]

    async def test_a_tampered_link_is_refused(self, intake, photo):
        [url] = links().urls([photo["id"]])
        later = url.replace("expires=", "expires=9")  # a longer life than was signed
        assert (await intake.get(path_and_query(later))).status_code == 403
        flipped = url[:-1] + ("0" if url[-1] != "0" else "1")
        assert (await intake.get(path_and_query(flipped))).status_code == 403

    async def test_a_link_signed_for_one_photo_opens_no_other(self, intake):
        created = await intake.post("/v1/reports", files=multipart(POTHOLE, JPEG, JPEG))
        first, second = (p["id"] for p in created.json()["photos"])
        [url] = links().urls([first])
        response = await intake.get(path_and_query(url.replace(first, second)))
        assert response.status_code == 403

    async def test_a_link_signed_with_another_key_is_refused(self, intake, photo):
        [url] = links(secret="someone-elses-key").urls([photo["id"]])
        assert (await intake.get(path_and_query(url))).status_code == 403

    async def test_absurd_signatures_and_expiries_are_refused_as_a_problem(
        self, intake, photo
    ):
        path = f"/v1/photos/{photo['id']}/signed"
        week = int((dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).timestamp())
        for query in (
            # Not hex, not even ASCII (the bytes F1 9F 8F BB F0 B3 A1 92), and an expiry
            # beyond any date-time.
            "signature=%F1%9F%8F%BB%F0%B3%A1%92&expires=1099511627776",
            f"signature=%C3%A9%C3%A9&expires={week}",
            "signature=%FF%FE&expires=0",
            f"signature=&expires={week}",
        ):
            response = await intake.get(f"{path}?{query}")
            assert response.status_code == 403, query
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith("photo-link-invalid")

    async def test_an_expiry_that_is_no_number_of_seconds_is_a_validation_problem(
        self, intake, photo
    ):
        path = f"/v1/photos/{photo['id']}/signed"
        for expires in ("soon", "1.5", "-1", str(2**40 + 1), "9" * 400):
            response = await intake.get(
                path, params={"signature": "0" * 64, "expires": expires}
            )
            assert response.status_code == 422, expires
            assert response.headers["content-type"] == "application/problem+json"
            assert "expires" in response.text
