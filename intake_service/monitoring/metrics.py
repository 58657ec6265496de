"""GET /metrics: this intake process's event-loop lag and photo decoding, for Prometheus.

Unlike the adapter's figures, which are counted from the database and the same on every
replica, these are the process's own: each API process answers for itself (scrape each).
The endpoint needs no key, like `/healthz`: it tells timings and counts, nothing about a
report.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from intake_service.photos.service import Photos
from shared.looplag import LoopLagMonitor
from shared.routes import Router
from shared.slow_clients import Uploads

router = Router(tags=["operations"])

LAG_METRIC = "mam_event_loop_lag_seconds"


class PhotoCollector(Collector):
    """The photo decoding's state, read at each scrape."""

    def __init__(self, photos: Photos) -> None:
        self.photos = photos

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        photos = self.photos
        yield GaugeMetricFamily(
            "mam_intake_photos_waiting",
            "Photos received and waiting for their turn to be decoded.",
            value=photos.waiting,
        )
        yield GaugeMetricFamily(
            "mam_intake_photo_pixels_decoding",
            "Pixels of the photos being decoded now (bounded by "
            "INTAKE_PHOTO_MAX_MEGAPIXELS).",
            value=photos.budget.used,
        )
        pool = photos.pool
        if pool is None:
            return
        yield GaugeMetricFamily(
            "mam_intake_photo_workers_running",
            "1 while the photo worker processes run, 0 once they stopped for lack of work.",
            value=1 if pool.running else 0,
        )
        yield CounterMetricFamily(
            "mam_intake_photo_worker_deaths",
            "Photo worker processes found dead (a decoder crash, out of memory, or a "
            "photo decoded for longer than INTAKE_PHOTO_TIMEOUT_SECONDS).",
            value=pool.deaths,
        )


class UploadCollector(Collector):
    def __init__(self, uploads: Uploads) -> None:
        self.uploads = uploads

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "mam_intake_uploads_in_progress",
            "Large request bodies being received now; at INTAKE_MAX_UPLOADS more get 503.",
            value=self.uploads.active,
        )


def registry_for(
    photos: Photos, uploads: Uploads
) -> tuple[CollectorRegistry, LoopLagMonitor]:
    """A registry of this process's metrics and the lag monitor writing into it (to run)."""
    registry = CollectorRegistry()
    monitor = LoopLagMonitor(registry, name=LAG_METRIC)
    registry.register(PhotoCollector(photos))
    registry.register(UploadCollector(uploads))
    # The process's memory and CPU, and the garbage collector's passes (a pass over the
    # oldest generation holds the loop for as long as it walks every object).
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    return registry, monitor


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="This intake process's figures in the Prometheus text format (each API "
    "process answers for itself): `mam_event_loop_lag_seconds` (histogram: how much later "
    "than due the event loop woke a task sleeping 50 ms, sampled all the time; anything "
    "that blocks the loop delays every request by as much); "
    "`mam_intake_photos_waiting` (photos received, waiting to be decoded); "
    "`mam_intake_photo_pixels_decoding` (pixels being decoded now); "
    "`mam_intake_photo_workers_running` (1 while the photo worker processes run) and "
    "`mam_intake_photo_worker_deaths_total` (workers found dead: a decoder crash, out of "
    "memory, or a photo past INTAKE_PHOTO_TIMEOUT_SECONDS); and the client library's "
    "`process_*` (resident memory, CPU time, file descriptors of this process, not of "
    "its photo workers) and `python_gc_*` (garbage collections by generation).",
    response_class=Response,
    responses={
        200: {
            "description": "Metrics in the Prometheus text exposition format.",
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "# TYPE mam_event_loop_lag_seconds histogram\n"
                    'mam_event_loop_lag_seconds_bucket{le="0.001"} 5120.0\n'
                    'mam_event_loop_lag_seconds_bucket{le="0.0025"} 5187.0\n'
                    "mam_event_loop_lag_seconds_count 5190.0\n"
                    "mam_event_loop_lag_seconds_sum 2.31\n"
                    "# TYPE mam_intake_photos_waiting gauge\n"
                    "mam_intake_photos_waiting 4.0\n",
                }
            },
        }
    },
)
async def read_metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
