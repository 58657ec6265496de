"""Photos decoded in worker processes that may die or hang."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from intake_service.photos import imaging
from intake_service.photos.imaging import Refusal
from intake_service.photos.models import Photo
from intake_service.photos.pool import WORKER_NICENESS, PhotoPool
from intake_service.reports.models import Report
from tests.helpers import POTHOLE, eventually
from tests.images import RED, camera_jpeg, encode, with_corner
from tests.intake_service.photo_faults import CRASH, HANG, crash_or_hang, tell_niceness

OPTIONS: dict[str, Any] = {
    "max_side": 2048,
    "thumb_side": 320,
    "max_pixels": 40_000_000,
}


@pytest.fixture
async def pool():
    pool = PhotoPool(2, render=crash_or_hang, timeout=1)
    yield pool
    await pool.close()


async def test_a_worker_gives_what_the_decode_in_process_gives(pool: PhotoPool):
    photo = camera_jpeg((640, 480))
    here = imaging.render(photo, **OPTIONS)

    there = await pool.render(photo, **OPTIONS)

    assert there == here
    assert pool.running
    with pytest.raises(Refusal) as refused:
        await pool.render(b"\x89PNG\r\n\x1a\n but no image", **OPTIONS)
    assert refused.value.kind == Refusal.DAMAGED
    assert pool.deaths == 0


async def test_a_photo_that_kills_its_worker_is_refused_and_the_others_go_through(
    pool: PhotoPool,
):
    good = camera_jpeg((640, 480))

    outcomes = await asyncio.gather(
        pool.render(CRASH, **OPTIONS),
        pool.render(good, **OPTIONS),
        pool.render(good, **OPTIONS),
        return_exceptions=True,
    )

    crashed, *others = outcomes
    assert isinstance(crashed, Refusal)
    assert crashed.kind == Refusal.DAMAGED
    assert [photo.width for photo in others] == [480, 480]  # type: ignore[union-attr]
    assert pool.deaths >= 2  # the pool's worker, then its own process alone
    # The pool is started anew for the next photo.
    assert (await pool.render(good, **OPTIONS)).height == 640


async def test_a_photo_stuck_in_its_decoder_is_refused_after_the_timeout(
    pool: PhotoPool,
):
    with pytest.raises(Refusal) as refused:
        await pool.render(HANG, **OPTIONS)
    assert refused.value.kind == Refusal.DAMAGED
    assert (await pool.render(camera_jpeg((64, 48)), **OPTIONS)).width == 48


async def test_workers_run_at_a_lower_priority_than_the_api():
    pool = PhotoPool(1, render=tell_niceness)
    try:
        with pytest.raises(Refusal) as told:
            await pool.render(b"any", **OPTIONS)
    finally:
        await pool.close()
    assert int(told.value.kind) == min(os.nice(0) + WORKER_NICENESS, 19)


async def test_idle_workers_stop_and_start_again_on_the_next_photo():
    pool = PhotoPool(1, idle_seconds=0.05)
    try:
        await pool.render(camera_jpeg((64, 48)), **OPTIONS)

        async def stopped() -> bool:
            return not pool.running

        await eventually(stopped, what="the idle workers' stop")
        assert (await pool.render(camera_jpeg((64, 48)), **OPTIONS)).width == 48
        assert pool.running
    finally:
        await pool.close()
    assert not pool.running


# --- over HTTP -----------------------------------------------------------------------------


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_a_crashing_photo_is_a_clear_422_and_nothing_is_stored(
    intake, intake_app, intake_session
):
    intake_app.state.photos.pool = PhotoPool(1, render=crash_or_hang)
    photo_dir = intake_app.state.settings.photo_dir
    good = encode(with_corner((64, 48), RED), "JPEG")
    try:
        response = await intake.post(
            "/v1/reports",
            files=[
                ("report", (None, json_bytes(POTHOLE), "application/json")),
                ("photos", ("ok.jpg", good, "image/jpeg")),
                ("photos", ("IMG_0666.HEIC", CRASH, "image/heic")),
            ],
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "urn:mam:problem:photo-damaged"
        assert problem["detail"].startswith("File 'IMG_0666.HEIC': ")
        assert stored_files(photo_dir) == []
        for model in (Report, Photo):
            count = select(func.count()).select_from(model)
            assert (await intake_session.execute(count)).scalar_one() == 0

        # The next report goes through.
        response = await intake.post(
            "/v1/reports",
            files=[
                ("report", (None, json_bytes(POTHOLE), "application/json")),
                ("photos", ("ok.jpg", good, "image/jpeg")),
            ],
        )
        assert response.status_code == 201, response.text
    finally:
        await intake_app.state.photos.pool.close()


def json_bytes(value: object) -> bytes:
    return json.dumps(value).encode()
