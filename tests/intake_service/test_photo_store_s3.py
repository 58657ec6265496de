"""Photos in an S3-compatible store: the store on a real server (moto), and intake on it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import gc
import json
import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select

from crm_adapter.crm.photos import PhotoLinks
from intake_service.app import create_app
from intake_service.cli import main
from intake_service.config import Settings
from intake_service.db import OutboxEvent
from intake_service.photos.models import Photo, photo_key
from intake_service.photos.s3 import S3Storage
from intake_service.photos.storage import (
    LocalDiskStorage,
    PhotoStorage,
    StorageUnavailable,
    photo_storage,
)
from intake_service.privacy.retention import run_retention
from intake_service.reports.models import Report
from shared.clock import SetClock
from shared.clock import use as use_clock
from shared.db import make_engine, make_sessionmaker, utcnow
from shared.settings import DEV_SECRETS
from tests.helpers import POTHOLE, AppClient, command_line
from tests.images import RED, encode, noise, with_corner
from tests.intake_service.helpers import multipart
from tests.s3_server import (  # noqa: F401 (the fixtures `s3_server` and `s3_bucket`)
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    CuttingProxy,
    S3Bucket,
    s3_bucket_fixture,
    s3_server_fixture,
)

PREFIX = "wroclaw"
JPEG = ("street.jpg", encode(with_corner((400, 300), RED), "JPEG"), "image/jpeg")
NOISY = ("noisy.jpg", encode(noise((400, 300)), "JPEG", quality=95), "image/jpeg")
"""Large enough (tens of kB stored) to be cut in the middle of its upload."""


def store_for(bucket: S3Bucket, url: str | None = None, **options) -> S3Storage:
    return S3Storage(
        bucket=bucket.name,
        prefix=PREFIX,
        endpoint_url=url or bucket.server.url,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        **options,
    )


def on_s3(settings: Settings, bucket: S3Bucket, url: str | None = None, **more):
    """The settings, keeping photos in `bucket` (reached at `url`, the server's own by
    default)."""
    return settings.model_copy(
        update={
            "photo_store": "s3",
            "s3_bucket": bucket.name,
            "s3_prefix": PREFIX,
            "s3_endpoint_url": url or bucket.server.url,
            "s3_access_key_id": ACCESS_KEY_ID,
            "s3_secret_access_key": SecretStr(SECRET_ACCESS_KEY),
            **more,
        }
    )


@contextlib.asynccontextmanager
async def intake_on(settings: Settings) -> AsyncIterator[AppClient]:
    """Intake in process on `settings` (lifespan started), its S3 client closed after."""
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app), AppClient(app) as client:
            yield client
    finally:
        photos = getattr(app.state, "photos", None)
        if photos is not None:
            await photos.storage.close()


@contextlib.asynccontextmanager
async def proxy_to(bucket: S3Bucket) -> AsyncIterator[CuttingProxy]:
    async with CuttingProxy(bucket.server.url).running() as proxy:
        yield proxy


async def count(session, model) -> int:
    await session.rollback()
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


def objects(bucket: S3Bucket, photo_id: str) -> list[str]:
    """The keys of a photo and its thumbnail in the bucket."""
    return [
        f"{PREFIX}/{photo_key(uuid.UUID(photo_id), thumbnail=thumb)}"
        for thumb in (False, True)
    ]


class TestS3Storage:
    async def test_put_get_delete_round_trip_under_the_prefix(self, s3_bucket):
        s3 = store_for(s3_bucket)
        store: PhotoStorage = s3  # mypy checks it keeps the protocol
        key = "reports/3f2a9c.jpg"
        try:
            assert await store.get(key) is None
            await store.put(key, b"first", "image/jpeg")
            await store.put(key, b"second", "image/jpeg")
            assert await store.get(key) == b"second"
            assert s3_bucket.object_keys() == [f"{PREFIX}/{key}"]
            assert s3_bucket.content_type(f"{PREFIX}/{key}") == "image/jpeg"
            await store.delete(key)
            assert await store.get(key) is None
            await store.delete(key)  # deleting what is gone is no error
            assert s3_bucket.object_keys() == []
        finally:
            await s3.close()

    async def test_older_than_reads_every_page_and_only_the_stores_own_keys(
        self, s3_bucket
    ):
        store = store_for(s3_bucket)
        store.page_size = 2
        keys = sorted(f"reports/{uuid.uuid4().hex}.jpg" for _ in range(5))
        try:
            for key in keys:
                await store.put(key, b"photo", "image/jpeg")
            # Another tool's objects: outside the prefix, or not named as keys are.
            s3_bucket.put(f"elsewhere/{uuid.uuid4().hex}.jpg", b"x")
            s3_bucket.put(f"{PREFIX}/reports/a photo.jpg", b"x")
            now = dt.datetime.now(dt.UTC)

            assert sorted(await store.older_than(now + dt.timedelta(days=1))) == keys
            assert await store.older_than(now - dt.timedelta(days=1)) == []
        finally:
            await store.close()

    async def test_check_writes_reads_and_deletes_a_probe(self, s3_bucket):
        async with proxy_to(s3_bucket) as proxy:
            store = store_for(s3_bucket, proxy.url)
            try:
                await store.check()
            finally:
                await store.close()
        assert [method for method, _ in proxy.requests] == ["PUT", "GET", "DELETE"]
        assert {path for _, path in proxy.requests} == {proxy.requests[0][1]}
        assert f"/{PREFIX}/probes/" in proxy.requests[0][1]
        assert s3_bucket.object_keys() == []

    async def test_check_fails_without_the_bucket(self, s3_server):
        store = S3Storage(
            bucket="mam-no-such-bucket",
            endpoint_url=s3_server.url,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        )
        try:
            with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
                await store.check()
        finally:
            await store.close()

    async def test_a_store_that_is_down_raises_storage_unavailable(self, s3_bucket):
        async with proxy_to(s3_bucket) as proxy:
            store = store_for(s3_bucket, proxy.url)
            proxy.refuse()
            try:
                calls = [
                    lambda: store.put("reports/a.jpg", b"photo", "image/jpeg"),
                    lambda: store.get("reports/a.jpg"),
                    lambda: store.older_than(dt.datetime.now(dt.UTC)),
                    store.check,
                ]
                for call in calls:
                    with pytest.raises(StorageUnavailable, match="^S3 .* failed: "):
                        await call()
            finally:
                await store.close()

    def test_the_client_is_closed_with_its_event_loop(self, s3_bucket):
        """Nothing has to close the store: the loop's end closes its client."""
        store = store_for(s3_bucket)

        async def use(store: S3Storage) -> bytes | None:
            await store.put("reports/a.jpg", b"photo", "image/jpeg")
            return await store.get("reports/a.jpg")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert asyncio.run(use(store)) == b"photo"
            del store
            gc.collect()
        assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


class TestChoosingTheStore:
    def test_the_local_folder_is_the_default(self, tmp_path):
        store = photo_storage(Settings(data_dir=tmp_path))
        assert isinstance(store, LocalDiskStorage)
        assert store.root == tmp_path / "photos"

    async def test_the_local_folder_checks_with_a_probe_it_removes(self, tmp_path):
        store = LocalDiskStorage(tmp_path)
        await store.check()
        assert [p for p in tmp_path.rglob("*") if p.is_file()] == []

    def test_a_process_on_the_local_folder_never_imports_the_s3_client(self):
        code = (
            "import sys\n"
            "from intake_service.app import create_app\n"
            "from intake_service.config import Settings\n"
            "from intake_service.photos.storage import photo_storage\n"
            "create_app(Settings())\n"
            "photo_storage(Settings())\n"
            "print('aiobotocore' in sys.modules)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == "False"

    def test_s3_needs_a_bucket(self, monkeypatch):
        monkeypatch.setenv("INTAKE_PHOTO_STORE", "s3")
        with pytest.raises(ValidationError, match="INTAKE_S3_BUCKET"):
            Settings()
        monkeypatch.setenv("INTAKE_S3_BUCKET", "city-photos")
        monkeypatch.setenv("INTAKE_S3_PREFIX", "/mam/photos/")
        settings = Settings()
        assert settings.s3_prefix == "mam/photos"
        assert settings.s3_addressing_style == "path"
        assert isinstance(photo_storage(settings), S3Storage)

    @pytest.mark.parametrize(
        ("variables", "named"),
        [
            ({"INTAKE_S3_ACCESS_KEY_ID": "AKIA0000"}, "INTAKE_S3_SECRET_ACCESS_KEY"),
            ({"INTAKE_S3_PREFIX": "a/../b"}, "INTAKE_S3_PREFIX"),
            (
                {
                    "INTAKE_PHOTO_STORE": "local",
                    "INTAKE_S3_PRESIGNED_URL_SECONDS": "60",
                },
                "INTAKE_S3_PRESIGNED_URL_SECONDS",
            ),
        ],
    )
    def test_incomplete_s3_settings_are_refused(self, monkeypatch, variables, named):
        monkeypatch.setenv("INTAKE_PHOTO_STORE", "s3")
        monkeypatch.setenv("INTAKE_S3_BUCKET", "city-photos")
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError, match=named):
            Settings()


class TestReportsOnS3:
    async def test_a_report_is_served_from_the_bucket_by_every_host(
        self, intake_settings, s3_bucket, tmp_path
    ):
        first = on_s3(intake_settings, s3_bucket).model_copy(
            update={"data_dir": tmp_path / "a", "photo_dir": tmp_path / "a" / "photos"}
        )
        second = first.model_copy(
            update={"data_dir": tmp_path / "b", "photo_dir": tmp_path / "b" / "photos"}
        )
        async with intake_on(first) as intake:
            created = await intake.post(
                "/v1/reports", files=multipart(POTHOLE, JPEG, NOISY)
            )
            assert created.status_code == 201, created.text
            photos = [photo["id"] for photo in created.json()["photos"]]
            served = await intake.get(f"/v1/photos/{photos[0]}")
        assert served.status_code == 200
        expected = sorted(key for photo in photos for key in objects(s3_bucket, photo))
        assert s3_bucket.object_keys() == expected
        full, thumb = objects(s3_bucket, photos[0])
        assert served.content == s3_bucket.body(full)
        assert not list((tmp_path / "a").rglob("*.jpg"))

        # Another replica: its own data folder, the same database and bucket.
        async with intake_on(second) as replica:
            again = await replica.get(f"/v1/photos/{photos[0]}")
            small = await replica.get(f"/v1/photos/{photos[0]}?size=thumb")
            cached = await replica.get(
                f"/v1/photos/{photos[0]}",
                headers={"If-None-Match": served.headers["etag"]},
            )
        assert again.status_code == 200
        assert again.content == served.content
        assert again.headers["etag"] == served.headers["etag"]
        assert again.headers["content-type"] == "image/jpeg"
        assert small.content == s3_bucket.body(thumb)
        assert cached.status_code == 304


def signed_path(photo_id: str, *, now: dt.datetime | None = None) -> str:
    links = PhotoLinks(
        intake_url="http://test",
        secret=DEV_SECRETS["photo_urls"],
        ttl=dt.timedelta(days=1),
    )
    [url] = links.urls([photo_id], now=now)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


class TestPresignedRedirects:
    @pytest.fixture
    async def intake(self, intake_settings, s3_bucket):
        settings = on_s3(intake_settings, s3_bucket, s3_presigned_url_seconds=300)
        async with intake_on(settings) as client:
            yield client

    @pytest.fixture
    async def photo_id(self, intake) -> str:
        created = await intake.post("/v1/reports", files=multipart(POTHOLE, JPEG))
        assert created.status_code == 201, created.text
        photo_id: str = created.json()["photos"][0]["id"]
        return photo_id

    async def test_the_photo_and_its_thumbnail_redirect_to_the_store(
        self, intake, photo_id, s3_bucket
    ):
        full, thumb = objects(s3_bucket, photo_id)
        async with httpx.AsyncClient() as outside:
            for path, key in ((photo_id, full), (f"{photo_id}?size=thumb", thumb)):
                answer = await intake.get(f"/v1/photos/{path}")
                assert answer.status_code == 307
                assert answer.headers["cache-control"] == "private, max-age=150"
                location = answer.headers["location"]
                assert location.startswith(f"{s3_bucket.server.url}/{s3_bucket.name}/")
                assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["300"]
                fetched = await outside.get(location)
                assert fetched.status_code == 200
                assert fetched.headers["content-type"] == "image/jpeg"
                assert fetched.content == s3_bucket.body(key)
                assert fetched.content[:3] == b"\xff\xd8\xff"

    async def test_a_copy_still_current_is_answered_before_any_redirect(
        self, intake, photo_id
    ):
        head = await intake.head(f"/v1/photos/{photo_id}")
        assert head.status_code == 200
        assert head.headers["content-type"] == "image/jpeg"
        cached = await intake.get(
            f"/v1/photos/{photo_id}", headers={"If-None-Match": head.headers["etag"]}
        )
        assert cached.status_code == 304

    async def test_a_valid_signed_link_redirects_and_a_bad_one_never_does(
        self, intake, photo_id
    ):
        valid = await intake.get(signed_path(photo_id))
        assert valid.status_code == 307
        week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
        expired = await intake.get(
            signed_path(photo_id, now=week_ago), headers={"Accept-Language": "en"}
        )
        assert expired.status_code == 403
        assert expired.headers["content-type"] == "application/problem+json"
        assert "expired" in expired.json()["detail"]
        tampered = signed_path(photo_id).replace("expires=", "expires=9")
        assert (await intake.get(tampered)).status_code == 403
        unknown = await intake.get(signed_path(str(uuid.uuid4())))
        assert unknown.status_code == 404
        assert "location" not in unknown.headers


class TestRetentionOnS3:
    async def test_photo_objects_no_report_refers_to_are_deleted(
        self, intake_settings, s3_bucket, monkeypatch, capsys
    ):
        settings = on_s3(intake_settings, s3_bucket)
        async with intake_on(settings) as intake:
            created = await intake.post("/v1/reports", files=multipart(POTHOLE, JPEG))
        kept = objects(s3_bucket, created.json()["photos"][0]["id"])
        orphan = uuid.uuid4()
        for key in (photo_key(orphan), photo_key(orphan, thumbnail=True)):
            s3_bucket.put(f"{PREFIX}/{key}", b"\xff\xd8\xff")
        cli = command_line(main, settings, monkeypatch, capsys)

        # The day's grace first: nothing is old enough yet.
        status, out, _ = await cli("retention")
        assert (status, json.loads(out)["orphan_photos_deleted"]) == (0, 0)
        with use_clock(SetClock(utcnow() + dt.timedelta(days=2))):
            status, out, _ = await cli("retention")

        assert (status, json.loads(out)["orphan_photos_deleted"]) == (0, 2)
        assert s3_bucket.object_keys() == sorted(kept)

    async def test_a_store_that_cannot_list_fails_the_run_loudly(
        self, intake_settings, s3_bucket
    ):
        engine = make_engine(intake_settings.database_url)
        async with proxy_to(s3_bucket) as proxy:
            store = store_for(s3_bucket, proxy.url)
            proxy.refuse()
            try:
                with pytest.raises(StorageUnavailable):
                    await run_retention(
                        make_sessionmaker(engine),
                        inactive_account_days=730,
                        closed_report_days=365,
                        photos=store,
                    )
            finally:
                await store.close()
                await engine.dispose()


class TestStoreFailures:
    async def test_an_upload_cut_midway_files_nothing_and_leaves_nothing(
        self, intake_settings, s3_bucket, intake_session
    ):
        key = {"Idempotency-Key": str(uuid.uuid4()), "Accept-Language": "de"}
        async with proxy_to(s3_bucket) as proxy:
            settings = on_s3(intake_settings, s3_bucket, proxy.url)
            async with intake_on(settings) as intake:
                # The first photo and its thumbnail are stored; the second is cut.
                proxy.cut_uploads(after_objects=2, after_bytes=4096)
                refused = await intake.post(
                    "/v1/reports", files=multipart(POTHOLE, NOISY, NOISY), headers=key
                )

                assert refused.status_code == 503
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.headers["retry-after"] == "5"
                problem = refused.json()
                assert problem["type"].endswith(":photo-store-unavailable")
                assert problem["title"] == "Vorübergehend nicht verfügbar"
                assert "Idempotency-Key" in problem["detail"]
                assert proxy.cuts >= 1
                # The stored objects and the one cut (it may have been stored all the
                # same) are deleted at once.
                put = [path for method, path in proxy.requests if method == "PUT"]
                deleted = [
                    path for method, path in proxy.requests if method == "DELETE"
                ]
                assert len(set(put)) == 3
                assert sorted(deleted) == sorted(set(put))
                assert s3_bucket.object_keys() == []
                assert await count(intake_session, Report) == 0
                assert await count(intake_session, Photo) == 0
                assert await count(intake_session, OutboxEvent) == 0

                proxy.heal()
                filed = await intake.post(
                    "/v1/reports", files=multipart(POTHOLE, NOISY, NOISY), headers=key
                )
                again = await intake.post(
                    "/v1/reports", files=multipart(POTHOLE, NOISY, NOISY), headers=key
                )

        assert filed.status_code == 201, filed.text
        assert "idempotent-replayed" not in filed.headers
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["id"] == filed.json()["id"]
        assert await count(intake_session, Report) == 1
        photos = [photo["id"] for photo in filed.json()["photos"]]
        assert s3_bucket.object_keys() == sorted(
            key for photo in photos for key in objects(s3_bucket, photo)
        )

    async def test_a_store_that_is_down_is_a_503_for_reports_and_photos(
        self, intake_settings, s3_bucket, intake_session
    ):
        async with proxy_to(s3_bucket) as proxy:
            settings = on_s3(intake_settings, s3_bucket, proxy.url)
            async with intake_on(settings) as intake:
                created = await intake.post(
                    "/v1/reports", files=multipart(POTHOLE, JPEG)
                )
                photo_id = created.json()["photos"][0]["id"]
                proxy.refuse()
                filing = await intake.post(
                    "/v1/reports",
                    files=multipart(POTHOLE, JPEG),
                    headers={"Accept-Language": "en"},
                )
                reading = await intake.get(
                    f"/v1/photos/{photo_id}", headers={"Accept-Language": "pl"}
                )

        assert filing.status_code == 503
        assert filing.json()["title"] == "Temporarily unavailable"
        assert filing.headers["retry-after"] == "5"
        assert reading.status_code == 503
        assert reading.json()["title"] == "Chwilowo niedostępne"
        assert reading.headers["retry-after"] == "5"
        assert await count(intake_session, Report) == 1

    async def test_a_failing_local_disk_is_the_same_503_and_leaves_no_file(
        self, intake, intake_session, monkeypatch
    ):
        """The folder's failures take the S3 store's path: 503, nothing half-stored."""
        photo_dir = intake.app.state.settings.photo_dir
        real_replace = os.replace
        renamed: list[str] = []

        def replace(source, target) -> None:
            if len(renamed) == 2:  # the first photo and its thumbnail are in place
                raise OSError(errno.ENOSPC, "No space left on device")
            renamed.append(target)
            real_replace(source, target)

        monkeypatch.setattr(os, "replace", replace)
        refused = await intake.post("/v1/reports", files=multipart(POTHOLE, JPEG, JPEG))

        assert refused.status_code == 503
        assert refused.json()["type"].endswith(":photo-store-unavailable")
        assert refused.headers["retry-after"] == "5"
        assert len(renamed) == 2
        assert [p for p in photo_dir.rglob("*") if p.is_file()] == []
        assert await count(intake_session, Report) == 0
