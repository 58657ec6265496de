"""B2 and B3: photo processing cost against plain Pillow, and intake's memory under uploads.

B2 runs in this process: intake's `process_photo` and the least Pillow pipeline that does
the same job (open, exif_transpose, scale to 2048 px on the long side, encode JPEG, make
a thumbnail) take turns on the same files; the median CPU time per photo is compared.
"B2 blur" is what blurring faces adds: `process_photo` with intake's default face
threshold and without it take turns on the 12 MP JPEG (the model loaded beforehand, as a
photo worker keeps it). The detector's cost follows the stored size (2048 px), not the
file's, so one row tells it for every photo that large.

B3 starts intake alone and has wrk open 16 connections that each POST one report with
three 40-megapixel PNGs (the costliest photos allowed: PNG has no reduced-scale decode)
at once, while a second wrk reads `/v1/categories` at a steady pace and a thread samples
intake's resident memory (with its children: photo workers) every 100 ms. The event loop's lag is read from
intake's `GET /metrics` before and after the uploads.

Every photo is made here at run time with Pillow; none is committed.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pillow_heif
from PIL import ExifTags, Image, ImageOps

from bench.harness import (
    BENCH_DIR,
    Figure,
    Load,
    Options,
    databases,
    intake_alone,
    rss_mib,
)
from intake_service.config import Settings
from intake_service.photos.processing import process_photo

B2_BAR = 1.2
B3_CLIENTS = 16
B3_PEAK_BAR_MIB = 600.0
B3_AFTER_BAR_MIB = 250.0
B3_LAG_BAR_MS = 20.0
B3_GET_BAR_MS = 200.0
MAX_SIDE = 2048
FACE_THRESHOLD = Settings.model_fields["photo_face_threshold"].default
THUMB_SIDE = 320
QUALITY = 85
LAG_METRIC = "mam_event_loop_lag_seconds"
GET_CONNECTIONS = 4
GET_PAUSE_MS = 25
"""Other clients read at a steady pace (at most 160 requests a second), not flat out: a
flood of GETs would keep the event loop busy by itself, and its lag would measure the
GETs, not the uploads."""
WROCLAW = (51.1097, 17.0326)


# Photos ---------------------------------------------------------------------------------


def _scene(size: tuple[int, int], *, grain: float) -> Image.Image:
    """Something like a photo to a codec: smooth shapes, edges, and sensor grain."""
    width, height = size
    # Blotches: coarse noise scaled up smoothly; edges: a coarser one scaled up blocky.
    small = (max(width // 64, 2), max(height // 64, 2))
    channels = [
        Image.effect_noise(small, 60).resize(size, Image.Resampling.BICUBIC),
        Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR),
        Image.effect_noise((max(width // 256, 2), max(height // 256, 2)), 80).resize(
            size, Image.Resampling.NEAREST
        ),
    ]
    image = Image.merge("RGB", channels)
    if grain:
        noise = Image.effect_noise(size, grain).convert("RGB")
        image = Image.blend(image, noise, 0.15)
    return image


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "BenchCam"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 6.0, 34.92)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (17.0, 1.0, 57.36)
    return exif


def _jpeg(size: tuple[int, int], path: Path) -> Path:
    """A camera JPEG: grain, quality 92, turned by EXIF (Orientation 6), with a GPS fix."""
    if not path.exists():
        _scene(size, grain=40).save(path, "JPEG", quality=92, exif=_exif(6).tobytes())
    return path


def _heic(size: tuple[int, int], path: Path) -> Path:
    """An iPhone-like HEIC: turned by EXIF, with a GPS fix."""
    if not path.exists():
        heif = pillow_heif.from_pillow(_scene(size, grain=40))
        heif.save(path, quality=80, exif=_exif(6).tobytes())
    return path


def _png(size: tuple[int, int], path: Path, seed: int) -> Path:
    """A large PNG that still fits the upload limits: gradients and flat blocks, no grain."""
    if not path.exists():
        image = _scene(size, grain=0)
        # Each file differs (no cache or deduplication could help).
        image.putpixel((seed, seed), (seed, 0, 0))
        image.save(path, "PNG", compress_level=6)
    return path


# B2 -------------------------------------------------------------------------------------


def minimal_pipeline(data: bytes) -> tuple[bytes, bytes]:
    """The least Pillow does to store a photo: upright, at most 2048 px, JPEG, a thumbnail."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    small = io.BytesIO()
    thumb.save(small, "JPEG", quality=QUALITY)
    return out.getvalue(), small.getvalue()


def intake_pipeline(data: bytes) -> tuple[bytes, bytes]:
    # The largest photo intake can be set to accept (INTAKE_PHOTO_MAX_MEGAPIXELS=50), so
    # that the 48 MP file is processed, not refused.
    photo = process_photo(
        data, max_side=MAX_SIDE, thumb_side=THUMB_SIDE, max_pixels=50_000_000
    )
    return photo.image, photo.thumbnail


def blurring_pipeline(data: bytes) -> tuple[bytes, bytes]:
    """`intake_pipeline` with the faces blurred, as intake does by default."""
    photo = process_photo(
        data,
        max_side=MAX_SIDE,
        thumb_side=THUMB_SIDE,
        max_pixels=50_000_000,
        face_threshold=FACE_THRESHOLD,
    )
    return photo.image, photo.thumbnail


@dataclass(frozen=True)
class _Timing:
    cpu_ms: float
    wall_ms: float


def _time(pipeline: Callable[[bytes], object], data: bytes) -> _Timing:
    cpu, wall = time.process_time(), time.perf_counter()
    pipeline(data)
    return _Timing(
        (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000
    )


def _b2_files(options: Options) -> list[tuple[str, Path]]:
    folder = options.work_dir / "b2"
    folder.mkdir(parents=True, exist_ok=True)
    if options.quick:
        return [
            ("small JPEG", _jpeg((1600, 1200), folder / "small.jpg")),
            ("large JPEG", _jpeg((3200, 2400), folder / "large.jpg")),
            ("HEIC", _heic((1024, 768), folder / "photo.heic")),
        ]
    return [
        ("12 MP JPEG", _jpeg((4000, 3000), folder / "12mp.jpg")),
        ("48 MP JPEG", _jpeg((8000, 6000), folder / "48mp.jpg")),
        ("HEIC", _heic((4032, 3024), folder / "12mp.heic")),
    ]


def _measure_b2(options: Options) -> list[Figure]:
    repetitions = 2 if options.quick else 7
    figures = []
    files = _b2_files(options)
    for label, path in files:
        data = path.read_bytes()
        # Once each unmeasured: imports, codec tables, caches.
        minimal_pipeline(data)
        intake_pipeline(data)
        ours: list[_Timing] = []
        base: list[_Timing] = []
        for _ in range(repetitions):
            base.append(_time(minimal_pipeline, data))
            ours.append(_time(intake_pipeline, data))
        with Image.open(path) as image:
            size = image.size
        cpu = statistics.median(t.cpu_ms for t in ours)
        base_cpu = statistics.median(t.cpu_ms for t in base)
        wall = statistics.median(t.wall_ms for t in ours)
        base_wall = statistics.median(t.wall_ms for t in base)
        ratio = cpu / base_cpu
        figures.append(
            Figure(
                "B2",
                f"processing a {label} ({size[0]}×{size[1]}, {len(data) / 2**20:.1f} MiB), "
                "median CPU time",
                round(cpu, 1),
                "ms",
                f"≤ {B2_BAR}× minimal Pillow",
                baseline=round(base_cpu, 1),
                ratio=ratio,
                passed=None if options.quick else ratio <= B2_BAR,
                details={
                    "repetitions": repetitions,
                    "wall_ms": round(wall, 1),
                    "baseline_wall_ms": round(base_wall, 1),
                    "wall_ratio": round(wall / base_wall, 3),
                    "cpu_ms": [round(t.cpu_ms, 1) for t in ours],
                    "baseline_cpu_ms": [round(t.cpu_ms, 1) for t in base],
                },
            )
        )
    label, path = files[1] if options.quick else files[0]
    figures.append(_measure_blur(label, path.read_bytes(), repetitions))
    return figures


def _measure_blur(label: str, data: bytes, repetitions: int) -> Figure:
    """Processing with faces blurred against the same without: what blurring costs."""
    # Once each unmeasured: the model is loaded once per photo worker.
    intake_pipeline(data)
    stored = Image.open(io.BytesIO(blurring_pipeline(data)[0])).size
    blurred: list[_Timing] = []
    plain: list[_Timing] = []
    for _ in range(repetitions):
        plain.append(_time(intake_pipeline, data))
        blurred.append(_time(blurring_pipeline, data))
    cpu = statistics.median(t.cpu_ms for t in blurred)
    base_cpu = statistics.median(t.cpu_ms for t in plain)
    wall = statistics.median(t.wall_ms for t in blurred)
    base_wall = statistics.median(t.wall_ms for t in plain)
    return Figure(
        "B2 blur",
        f"processing a {label} with its faces blurred (looked for at the stored "
        f"{stored[0]}×{stored[1]}), median CPU time",
        round(cpu, 1),
        "ms",
        "none (what blurring costs)",
        baseline=round(base_cpu, 1),
        ratio=cpu / base_cpu,
        details={
            "repetitions": repetitions,
            "added_cpu_ms": round(cpu - base_cpu, 1),
            "wall_ms": round(wall, 1),
            "baseline_wall_ms": round(base_wall, 1),
            "cpu_ms": [round(t.cpu_ms, 1) for t in blurred],
            "baseline_cpu_ms": [round(t.cpu_ms, 1) for t in plain],
        },
    )


async def b2(options: Options) -> list[Figure]:
    # CPU-bound and in this process: off the event loop, and nothing else runs meanwhile.
    return await asyncio.to_thread(_measure_b2, options)


# B3 -------------------------------------------------------------------------------------


def _multipart(photos: list[Path], path: Path) -> str:
    """A report with its photos as one multipart body in `path`; its Content-Type."""
    boundary = f"bench-{uuid.uuid4().hex}"
    report = {
        "category": "pothole",
        "location": {"lat": WROCLAW[0], "lon": WROCLAW[1]},
        "description": "Dziura w jezdni, benchmark ze zdjęciami",
    }
    with path.open("wb") as out:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="report"\r\n'
            f"Content-Type: application/json\r\n\r\n{json.dumps(report)}\r\n".encode()
        )
        for photo in photos:
            out.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                f'filename="{photo.name}"\r\nContent-Type: image/png\r\n\r\n'.encode()
            )
            out.write(photo.read_bytes())
            out.write(b"\r\n")
        out.write(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}"


class _MemorySampler:
    """Resident memory of a process and its children every `interval` s, in a thread."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            self.samples.append(
                (round(time.monotonic() - start, 1), round(rss_mib(self.pid), 1))
            )
            self._stop.wait(self.interval)

    def __enter__(self) -> _MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> float:
        return max(mib for _, mib in self.samples)


def _lag_buckets(text: str) -> dict[float, float] | None:
    """The lag histogram's cumulative counts by upper bound, from Prometheus text."""
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith(f"{LAG_METRIC}_bucket{{"):
            labels, value = line.rsplit(" ", 1)
            bound = labels.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(bound)] = float(value)
    return buckets or None


def _lag(url: str) -> dict[float, float] | None:
    try:
        answer = httpx.get(f"{url}/metrics", timeout=10)
    except httpx.HTTPError:
        return None
    return _lag_buckets(answer.text) if answer.status_code == 200 else None


def quantile(q: float, buckets: dict[float, float]) -> float:
    """`histogram_quantile` of Prometheus: linear within the bucket the rank falls in."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return 0.0
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return lower


def _start_wrk(
    url: str, script: str, *, connections: int, env: dict[str, str], timeout: float
) -> subprocess.Popen[str]:
    """wrk (one thread) with a script from `bench/lua`, running until interrupted.

    `harness.wrk` runs wrk for a fixed duration; these rounds last as long as the uploads
    do, so wrk is stopped with SIGINT (after which it prints its figures).
    """
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        "-d3600s",
        f"--timeout={int(timeout)}s",
        "-s",
        str(BENCH_DIR / "lua" / script),
        url,
    ]
    return subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wrk_result(text: str) -> tuple[Load, dict[str, int]]:
    """The load wrk printed (WRK_RESULT), and its errors by kind."""
    found = re.search(r"^WRK_RESULT (.*)$", text, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk said:\n{text}")
    raw = json.loads(found.group(1))
    errors = {
        kind: raw[kind]
        for kind in (
            "connect_errors",
            "read_errors",
            "write_errors",
            "timeouts",
            "non_2xx",
        )
    }
    load = Load(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        errors=sum(errors.values()),
    )
    return load, errors


def _interrupted(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate()
    return out


def upload_all_at_once(
    url: str, body: Path, content_type: str, *, clients: int, timeout: float
) -> tuple[Load, dict[str, int], list[int]]:
    """`clients` connections of wrk each POST `body` once: the load, its errors by kind,
    and the answers' statuses. wrk is interrupted as soon as the last answer is in."""
    process = _start_wrk(
        url,
        "upload.lua",
        connections=clients,
        timeout=timeout,
        env={
            "BENCH_BODY_FILE": str(body),
            "BENCH_CONTENT_TYPE": content_type,
            "BENCH_UPLOADS": str(clients),
        },
    )
    assert process.stdout is not None
    statuses: list[int] = []
    output = []
    for line in process.stdout:
        output.append(line)
        if line.startswith("WRK_ANSWERED "):
            statuses.append(int(line.split()[2]))
            if len(statuses) == clients:
                break
    output.append(_interrupted(process))
    load, errors = _wrk_result("".join(output))
    return load, errors, statuses


def _warm_up(url: str) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(20):
            client.get("/v1/categories").raise_for_status()


def _b3_photos(options: Options) -> list[Path]:
    folder = options.work_dir / "b3"
    folder.mkdir(parents=True, exist_ok=True)
    # 7296×5472 is 39.9 MP, a 4:3 sensor's full frame just under the 40 MP limit.
    size = (1600, 1200) if options.quick else (7296, 5472)
    return [_png(size, folder / f"photo-{i}.png", seed=i) for i in range(3)]


async def b3(options: Options) -> list[Figure]:
    photos = await asyncio.to_thread(_b3_photos, options)
    body = options.work_dir / "b3" / "report.multipart"
    content_type = await asyncio.to_thread(_multipart, photos, body)
    settle = 3.0 if options.quick else 60.0
    async with databases(options, "b3") as dbs:
        with intake_alone(dbs, options.work_dir) as (url, pid):
            # Warm up what the readers use (first queries compile, caches fill), as a
            # server that has run a while has it; let the first lag samples run.
            await asyncio.to_thread(_warm_up, url)
            await asyncio.sleep(1.0)
            idle = rss_mib(pid)
            lag_before = await asyncio.to_thread(_lag, url)
            gets = _start_wrk(
                url,
                "get_paced.lua",
                connections=GET_CONNECTIONS,
                timeout=10,
                env={
                    "BENCH_PATH": "/v1/categories",
                    "BENCH_PAUSE_MS": str(GET_PAUSE_MS),
                },
            )
            try:
                with _MemorySampler(pid) as memory:
                    uploads, upload_errors, statuses = await asyncio.to_thread(
                        upload_all_at_once,
                        url,
                        body,
                        content_type,
                        clients=B3_CLIENTS,
                        timeout=900,
                    )
            finally:
                get_load, get_errors = _wrk_result(
                    await asyncio.to_thread(_interrupted, gets)
                )
            lag_after = await asyncio.to_thread(_lag, url)
            await asyncio.sleep(settle)
            after = rss_mib(pid)
    return _b3_figures(
        options,
        idle=idle,
        peak=memory.peak,
        after=after,
        settle=settle,
        uploads=uploads,
        upload_errors=upload_errors,
        statuses=statuses,
        gets=get_load,
        get_errors=get_errors,
        lag=_lag_during(lag_before, lag_after),
        samples=memory.samples,
        body_mib=body.stat().st_size / 2**20,
    )


def _lag_during(
    before: dict[float, float] | None, after: dict[float, float] | None
) -> dict[float, float] | None:
    if before is None or after is None:
        return None
    return {bound: after[bound] - before.get(bound, 0.0) for bound in after}


def _b3_figures(
    options: Options,
    *,
    idle: float,
    peak: float,
    after: float,
    settle: float,
    uploads: Load,
    upload_errors: dict[str, int],
    statuses: list[int],
    gets: Load,
    get_errors: dict[str, int],
    lag: dict[float, float] | None,
    samples: list[tuple[float, float]],
    body_mib: float,
) -> list[Figure]:
    judged = not options.quick
    uploaded = statuses == [201] * B3_CLIENTS
    what = f"{B3_CLIENTS} reports × 3 photos of {'40 MP' if judged else '2 MP'} PNG at once"
    lag_p99 = None if lag is None else quantile(0.99, lag) * 1000
    get_p99 = gets.p99_ms
    upload_details: dict[str, Any] = {
        "statuses": sorted(set(statuses)),
        "answered": len(statuses),
        "errors": upload_errors,
        "seconds": round(uploads.seconds, 1),
        "p50_ms": round(uploads.p50_ms),
        "max_ms": round(uploads.max_ms),
        "request_mib": round(body_mib, 1),
    }
    # A tenth of the samples is enough to draw the curve.
    curve = samples[:: max(len(samples) // 100, 1)]
    return [
        Figure(
            "B3 peak",
            f"{what}: intake's peak RSS (with its children)",
            round(peak, 1),
            "MiB",
            f"< {B3_PEAK_BAR_MIB:.0f} MiB",
            baseline=round(idle, 1),
            passed=(peak < B3_PEAK_BAR_MIB and uploaded) if judged else None,
            details={"uploads": upload_details, "rss_mib": curve},
        ),
        Figure(
            "B3 after",
            f"intake's RSS {settle:.0f} s after the uploads",
            round(after, 1),
            "MiB",
            f"< {B3_AFTER_BAR_MIB:.0f} MiB",
            baseline=round(idle, 1),
            passed=after < B3_AFTER_BAR_MIB if judged else None,
        ),
        Figure(
            "B3 lag",
            "event-loop lag p99 during the uploads",
            None if lag_p99 is None else round(lag_p99, 1),
            "ms",
            f"< {B3_LAG_BAR_MS:.0f} ms",
            passed=(lag_p99 is not None and lag_p99 < B3_LAG_BAR_MS)
            if judged
            else None,
            details={
                "histogram": None
                if lag is None
                else {str(k): v for k, v in lag.items()}
            },
        ),
        Figure(
            "B3 GET",
            f"GET /v1/categories p99 during the uploads ({GET_CONNECTIONS} readers, "
            f"{GET_PAUSE_MS} ms apart)",
            round(get_p99, 1),
            "ms",
            f"< {B3_GET_BAR_MS:.0f} ms",
            passed=(get_p99 < B3_GET_BAR_MS and gets.errors == 0) if judged else None,
            details={
                "requests": gets.requests,
                "per_second": round(gets.per_second, 1),
                "p50_ms": round(gets.p50_ms, 1),
                "max_ms": round(gets.max_ms, 1),
                "errors": get_errors,
            },
        ),
    ]
