"""Reports with photos over HTTP: multipart upload, limits while streaming, serving photos."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pillow_heif
import pytest
from PIL import Image
from sqlalchemy import func, select

from intake_service.app import create_app
from intake_service.config import Settings
from intake_service.db import OutboxEvent
from intake_service.photos.models import Photo
from intake_service.reports.models import Report
from tests.helpers import POTHOLE, register_and_sign_in, serve
from tests.images import (
    BLUE,
    RED,
    WROCLAW,
    assert_close,
    assert_pixels_only,
    blank_png,
    encode,
    gps_exif,
    noise,
    with_corner,
)
from tests.intake_service.helpers import multipart

NO_LOCATION = {key: value for key, value in POTHOLE.items() if key != "location"}


def rotated_jpeg_with_gps() -> bytes:
    """Stored 400×300 with a red top-left corner and Orientation 6 ("turn 90° clockwise to
    view"): upright it is 300×400 with the red corner at the top right."""
    exif = gps_exif(*WROCLAW)
    exif[0x0112] = 6
    return encode(with_corner((400, 300), RED), "JPEG", exif=exif.tobytes(), quality=95)


def heic(size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", size, BLUE)).save(out, quality=80)
    return out.getvalue()


PNG = (
    "map.png",
    encode(Image.new("RGBA", (500, 200), (0, 0, 0, 0)), "PNG"),
    "image/png",
)
WEBP = ("bench.webp", encode(with_corner((640, 480), RED), "WEBP"), "image/webp")


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def count(session, model) -> int:
    await session.rollback()
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


@pytest.fixture
def photo_dir(intake_app) -> Path:
    return intake_app.state.settings.photo_dir


@pytest.fixture
async def small_limits(intake_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Intake allowing 200 kB per photo and 300 kB per request."""
    settings = intake_settings.model_copy(
        update={"photo_max_bytes": 200_000, "photo_request_max_bytes": 300_000}
    )
    async for client in serve(create_app(settings)):
        yield client


class TestUpload:
    async def test_photos_are_stored_upright_clean_and_in_order(
        self, intake, intake_session, photo_dir
    ):
        response = await intake.post(
            "/v1/reports",
            files=multipart(
                POTHOLE,
                ("IMG_0001.jpg", rotated_jpeg_with_gps(), "image/jpeg"),
                PNG,
                WEBP,
            ),
        )
        assert response.status_code == 201, response.text
        report = response.json()
        assert report["location_source"] == "device"
        assert report["location"] == POTHOLE["location"]
        sizes = [(p["width"], p["height"]) for p in report["photos"]]
        assert sizes == [(300, 400), (500, 200), (640, 480)]

        first = await intake.get(report["photos"][0]["url"])
        assert first.status_code == 200
        assert first.headers["content-type"] == "image/jpeg"
        assert first.headers["x-content-type-options"] == "nosniff"
        assert_pixels_only(first.content)
        upright = Image.open(io.BytesIO(first.content)).convert("RGB")
        assert upright.size == (300, 400)
        assert_close(upright.getpixel((295, 5)), RED)
        assert_close(upright.getpixel((5, 5)), BLUE)
        # A transparent PNG comes out white, not black.
        png = await intake.get(report["photos"][1]["url"])
        assert_close(
            Image.open(io.BytesIO(png.content)).getpixel((250, 100)), (255,) * 3
        )

        public = (await intake.get(f"/v1/reports/{report['id']}")).json()
        assert public["photos"] == report["photos"]
        assert await count(intake_session, Photo) == 3
        # Each photo and its thumbnail, named by id, nothing from the client.
        files = stored_files(photo_dir)
        assert len(files) == 6
        assert not any("IMG_0001" in str(f) or "map" in f.name for f in files)

    async def test_the_handover_event_names_the_photos(self, intake, intake_session):
        response = await intake.post("/v1/reports", files=multipart(POTHOLE, WEBP, PNG))
        photo_ids = [p["id"] for p in response.json()["photos"]]
        await intake_session.rollback()
        event = (await intake_session.execute(select(OutboxEvent))).scalar_one()
        assert json.loads(event.payload)["event"]["photo_ids"] == photo_ids

    async def test_heic_from_an_iphone_is_accepted(self, intake):
        response = await intake.post(
            "/v1/reports", files=multipart(POTHOLE, ("IMG_4512.HEIC", heic(), ""))
        )
        assert response.status_code == 201, response.text
        photo = await intake.get(response.json()["photos"][0]["url"])
        assert_pixels_only(photo.content)
        assert Image.open(io.BytesIO(photo.content)).size == (320, 240)

    async def test_big_photos_are_scaled_down_with_a_small_thumbnail(self, intake):
        big = ("big.jpg", encode(noise((3000, 2000)), "JPEG"), "image/jpeg")
        response = await intake.post("/v1/reports", files=multipart(POTHOLE, big))
        photo = response.json()["photos"][0]
        assert (photo["width"], photo["height"]) == (2048, 1365)
        full = await intake.get(photo["url"])
        thumb = await intake.get(photo["thumbnail_url"])
        assert Image.open(io.BytesIO(full.content)).size == (2048, 1365)
        assert Image.open(io.BytesIO(thumb.content)).size == (320, 213)
        assert_pixels_only(thumb.content)
        assert full.headers["etag"] != thumb.headers["etag"]

    async def test_a_report_part_sent_as_a_json_file_is_read_too(self, intake):
        report = ("report", ("report.json", json.dumps(POTHOLE), "application/json"))
        response = await intake.post("/v1/reports", files=[report, ("photos", WEBP)])
        assert response.status_code == 201, response.text
        assert len(response.json()["photos"]) == 1

    async def test_the_document_gives_the_report_parts_schema(self, intake):
        """The `report` part is JSON (its encoding says so) of the same schema as the
        JSON body: not any text, of which an empty one is refused."""
        spec = (await intake.get("/openapi.json")).json()
        content = spec["paths"]["/v1/reports"]["post"]["requestBody"]["content"]
        form = content["multipart/form-data"]
        part = form["schema"]["properties"]["report"]
        assert form["encoding"]["report"] == {"contentType": "application/json"}
        assert {k: v for k, v in part.items() if k != "description"} == {
            k: v
            for k, v in content["application/json"]["schema"].items()
            if k != "description"
        }
        empty = ("report", ("report.json", b"", "application/json"))
        assert (await intake.post("/v1/reports", files=[empty])).status_code == 422
        # No other part is taken, and the schema says so.
        assert form["schema"]["additionalProperties"] is False
        other = ("notes", ("notes.txt", b"x", "text/plain"))
        response = await intake.post("/v1/reports", files=[*multipart(POTHOLE), other])
        assert response.status_code == 422

    async def test_multipart_without_photos_is_a_plain_report(self, intake):
        response = await intake.post("/v1/reports", files=multipart(POTHOLE))
        assert response.status_code == 201, response.text
        assert response.json()["photos"] == []


class TestLocationFromPhoto:
    async def test_without_a_location_the_first_photos_gps_is_used(self, intake):
        response = await intake.post(
            "/v1/reports",
            files=multipart(
                NO_LOCATION, ("gps.jpg", rotated_jpeg_with_gps(), "image/jpeg")
            ),
        )
        assert response.status_code == 201, response.text
        report = response.json()
        assert report["location_source"] == "photo"
        assert report["location"] == {"lat": 51.1097, "lon": 17.0326}
        public = (await intake.get(f"/v1/reports/{report['id']}")).json()
        assert public["location_source"] == "photo"

    async def test_the_apps_location_wins_over_the_photos(self, intake):
        elsewhere = POTHOLE | {"location": {"lat": 51.12, "lon": 17.05}}
        response = await intake.post(
            "/v1/reports",
            files=multipart(elsewhere, ("gps.jpg", rotated_jpeg_with_gps(), "")),
        )
        assert response.json()["location"] == {"lat": 51.12, "lon": 17.05}
        assert response.json()["location_source"] == "device"

    async def test_no_location_and_no_gps_is_a_field_error(
        self, intake, intake_session, photo_dir
    ):
        response = await intake.post(
            "/v1/reports",
            files=multipart(NO_LOCATION, WEBP),
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 422
        [error] = response.json()["errors"]
        assert error["field"] == "location"
        assert "GPS" in error["message"]
        assert await count(intake_session, Report) == 0
        assert stored_files(photo_dir) == []

    async def test_a_json_report_without_location_is_a_field_error(self, intake):
        response = await intake.post("/v1/reports", json=NO_LOCATION)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["location"]

    async def test_a_photo_taken_outside_the_city_is_refused(
        self, intake, intake_session, photo_dir
    ):
        berlin = encode(
            noise((64, 64)),
            "JPEG",
            exif=gps_exif((52.0, 31.0, 12.0), "N", (13.0, 24.0, 18.0), "E").tobytes(),
        )
        response = await intake.post(
            "/v1/reports",
            files=multipart(NO_LOCATION, ("berlin.jpg", berlin, "image/jpeg")),
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 422
        assert "Wrocław" in response.json()["detail"]
        assert await count(intake_session, Report) == 0
        assert stored_files(photo_dir) == []


class TestRefusedPhotos:
    @pytest.mark.parametrize(
        ("photo", "status", "code"),
        [
            (
                ("evil.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
                415,
                "photo-unsupported-type",
            ),
            (
                ("cut.jpg", encode(noise((400, 300)), "JPEG")[:3000], "image/jpeg"),
                422,
                "photo-damaged",
            ),
            (
                ("bomb.png", blank_png(20_000, 20_000), "image/png"),
                422,
                "photo-too-large",
            ),
            (
                ("anim.gif", encode(Image.new("RGB", (10, 10)), "GIF"), "image/gif"),
                415,
                "photo-unsupported-type",
            ),
        ],
        ids=["html-named-jpg", "truncated", "decompression-bomb", "gif"],
    )
    async def test_a_bad_photo_refuses_the_report_and_stores_nothing(
        self, intake, intake_session, photo_dir, photo, status, code
    ):
        response = await intake.post(
            "/v1/reports",
            files=multipart(POTHOLE, WEBP, photo),
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == status, response.text
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["type"].endswith(code)
        # The resident learns which of their photos it was.
        assert problem["detail"].startswith(f"File '{photo[0]}'")
        assert await count(intake_session, Report) == 0
        assert await count(intake_session, Photo) == 0
        assert stored_files(photo_dir) == []

    async def test_a_fourth_photo_is_refused(self, intake, intake_session):
        response = await intake.post(
            "/v1/reports", files=multipart(POTHOLE, WEBP, WEBP, WEBP, WEBP)
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["photos"]
        assert await count(intake_session, Report) == 0

    @pytest.mark.parametrize(
        "parts",
        [
            [("report", (None, json.dumps(POTHOLE), "application/json")), ("x", "1")],
            [("photos", WEBP)],
            [("photos", (None, "not a file", "text/plain"))],
        ],
        ids=["unknown-part", "no-report", "photo-not-a-file"],
    )
    async def test_a_form_with_wrong_parts_is_a_field_error(
        self, intake, intake_session, parts
    ):
        response = await intake.post("/v1/reports", files=parts)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] in ("x", "report", "photos")
        assert await count(intake_session, Report) == 0

    async def test_field_errors_point_into_the_report_part(self, intake):
        bad = POTHOLE | {"location": {"lat": False, "lon": 17.03}, "status": "resolved"}
        response = await intake.post(
            "/v1/reports", files=multipart(bad, WEBP), headers={"Accept-Language": "en"}
        )
        assert response.status_code == 422
        fields = sorted(e["field"] for e in response.json()["errors"])
        assert fields == ["report.location.lat", "report.status"]

    async def test_a_report_part_that_is_not_utf8_is_refused_like_a_json_body(
        self, intake, intake_session
    ):
        raw = json.dumps(POTHOLE | {"description": "Dziura @@ w jezdni"}).encode()
        raw = raw.replace(b"@@", b"\xff\xfe")
        as_json = await intake.post(
            "/v1/reports", content=raw, headers={"content-type": "application/json"}
        )
        as_part = await intake.post("/v1/reports", files=multipart(raw))
        assert as_json.status_code in (400, 422)
        assert (as_part.status_code, as_part.json()["type"]) == (
            as_json.status_code,
            as_json.json()["type"],
        )
        assert await count(intake_session, Report) == 0

    async def test_a_broken_multipart_body_is_a_400(self, intake):
        response = await intake.post(
            "/v1/reports",
            content=b"--abc\r\nContent-Disposition: form-data\r\n\r\nx\r\n--abc--\r\n",
            headers={"Content-Type": "multipart/form-data; boundary=abc"},
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"

    async def test_another_content_type_is_a_415(self, intake):
        response = await intake.post(
            "/v1/reports",
            content=json.dumps(POTHOLE),
            headers={"Content-Type": "text/plain", "Accept-Language": "de"},
        )
        assert response.status_code == 415
        assert "multipart/form-data" in response.json()["detail"]


class TestSizeLimits:
    async def test_a_photo_over_the_limit_is_refused_before_the_rest_is_read(
        self, small_limits
    ):
        request = httpx.Request(
            "POST",
            "http://test",
            files=multipart(
                POTHOLE, ("huge.jpg", b"\xff\xd8\xff" + bytes(250_000), "image/jpeg")
            ),
        )
        content_type = request.headers["content-type"]
        body = request.read()
        sent = 0

        async def slowly():
            nonlocal sent
            for at in range(0, len(body), 10_000):
                sent = at + 10_000
                yield body[at : at + 10_000]

        response = await small_limits.post(
            "/v1/reports",
            content=slowly(),
            headers={"Content-Type": content_type, "Accept-Language": "en"},
        )
        assert response.status_code == 413
        problem = response.json()
        assert problem["type"].endswith("photo-file-too-large")
        assert problem["detail"] == "File 'huge.jpg': A photo may be at most 0.2 MB."
        assert sent < len(body)

    async def test_a_request_over_the_total_limit_is_refused(self, small_limits):
        photo = ("p.jpg", b"\xff\xd8\xff" + bytes(150_000), "image/jpeg")
        response = await small_limits.post(
            "/v1/reports", files=multipart(POTHOLE, photo, photo, photo)
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"

    async def test_json_reports_keep_their_own_small_limit(self, intake):
        huge = POTHOLE | {"description": "x" * (1024 * 1024)}
        response = await intake.post("/v1/reports", json=huge)
        assert response.status_code == 413


class TestServingPhotos:
    async def test_an_unchanged_copy_gets_304(self, intake):
        report = (
            await intake.post("/v1/reports", files=multipart(POTHOLE, WEBP))
        ).json()
        url = report["photos"][0]["url"]
        first = await intake.get(url)
        etag = first.headers["etag"]
        cache, _, seconds = first.headers["cache-control"].partition(", max-age=")
        # Shared caches may keep it, but a photo the moderators hide leaves them within
        # minutes.
        assert cache == "public"
        assert 0 < int(seconds) <= 300
        again = await intake.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        head = await intake.head(url)
        assert head.status_code == 200
        assert head.headers["etag"] == etag
        changed = await intake.get(url, headers={"If-None-Match": '"other"'})
        assert changed.status_code == 200
        assert changed.content == first.content

    async def test_unknown_photo_is_a_localized_404(self, intake):
        response = await intake.get(
            "/v1/photos/5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10",
            headers={"Accept-Language": "de"},
        )
        assert response.status_code == 404
        assert response.json()["title"] == "Foto nicht gefunden"

    async def test_an_unknown_size_is_a_422(self, intake):
        report = (
            await intake.post("/v1/reports", files=multipart(POTHOLE, WEBP))
        ).json()
        response = await intake.get(report["photos"][0]["url"] + "?size=huge")
        assert response.status_code == 422


class TestIdempotentUpload:
    async def test_a_retry_with_the_same_photos_creates_nothing(
        self, intake, intake_session, photo_dir
    ):
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        first = await intake.post(
            "/v1/reports", files=multipart(POTHOLE, WEBP), headers=headers
        )
        again = await intake.post(
            "/v1/reports", files=multipart(POTHOLE, WEBP), headers=headers
        )
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert await count(intake_session, Report) == 1
        assert len(stored_files(photo_dir)) == 2

    async def test_the_same_key_with_another_photo_is_a_422(self, intake):
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        await intake.post(
            "/v1/reports", files=multipart(POTHOLE, WEBP), headers=headers
        )
        other = await intake.post(
            "/v1/reports", files=multipart(POTHOLE, PNG), headers=headers
        )
        assert other.status_code == 422


class TestShownName:
    async def test_a_named_resident_chooses_whether_their_name_is_shown(self, intake):
        headers = await register_and_sign_in(intake, "ola@example.org", name="Ola")
        shown = await intake.post(
            "/v1/reports", json=POTHOLE | {"show_name": True}, headers=headers
        )
        hidden = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        anonymous = await intake.post("/v1/reports", json=POTHOLE | {"show_name": True})
        for created, expected in ((shown, "Ola"), (hidden, None), (anonymous, None)):
            public = await intake.get(f"/v1/reports/{created.json()['id']}")
            assert public.json()["reported_by"] == expected
        listed = (await intake.get("/v1/reports")).json()["items"]
        assert sorted(filter(None, (r["reported_by"] for r in listed))) == ["Ola"]

    async def test_the_reporter_can_hide_their_name_later_and_only_they_can(
        self, intake
    ):
        ola = await register_and_sign_in(intake, "ola@example.org", name="Ola")
        ewa = await register_and_sign_in(intake, "ewa@example.org", name="Ewa")
        created = await intake.post(
            "/v1/reports", json=POTHOLE | {"show_name": True}, headers=ola
        )
        url = f"/v1/me/reports/{created.json()['id']}"
        assert (
            await intake.patch(url, json={"show_name": False}, headers=ewa)
        ).status_code == 404
        assert (await intake.patch(url, json={"show_name": False})).status_code == 401
        hidden = await intake.patch(url, json={"show_name": False}, headers=ola)
        assert hidden.status_code == 200
        assert hidden.json()["show_name"] is False
        public = await intake.get(f"/v1/reports/{created.json()['id']}")
        assert public.json()["reported_by"] is None
        mine = (await intake.get("/v1/me/reports", headers=ola)).json()["items"]
        assert [r["show_name"] for r in mine] == [False]
        assert "show_name" not in public.json()
