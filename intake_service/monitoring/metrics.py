"""GET /metrics: intake's figures for Prometheus.

Two kinds side by side. The process's own (requests, event-loop lag, photo decoding,
uploads, memory): each API process answers for itself, so scrape each. And those counted
from the database at the scrape (reports, the outbox's and inbox's backlog, notification
deliveries): the same from every replica, like the adapter's. The endpoint needs no key,
like `/healthz`: it tells timings and counts, nothing about a report or a person.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from intake_service.monitoring.counted import database_families
from intake_service.photos.service import Photos
from shared.db import utcnow
from shared.deps import SessionDep
from shared.http_metrics import RequestMetrics
from shared.looplag import LoopLagMonitor
from shared.routes import Router
from shared.scrape import Snapshot, render
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


DESCRIPTION = (
    "Intake's figures in the Prometheus text format, of two kinds. **This process's own** "
    "(each API process answers for itself: scrape each): "
    "`mam_http_request_duration_seconds{route,method,status}` (histogram: time from a "
    "request's arrival until its status and headers were sent, by route template such as "
    "`/v1/reports/{report_id}` (`unmatched` for every path no route takes), method and "
    "status class `2xx` to `5xx`; its `_count` gives the request rate and the errors); "
    "`mam_event_loop_lag_seconds` (histogram: how much later than due the event loop "
    "woke a task sleeping 50 ms, sampled all the time; anything that blocks the loop "
    "delays every request by as much); "
    "`mam_intake_photos_waiting` (photos received, waiting to be decoded); "
    "`mam_intake_photo_pixels_decoding` (pixels being decoded now); "
    "`mam_intake_photo_workers_running` (1 while the photo worker processes run) and "
    "`mam_intake_photo_worker_deaths_total` (workers found dead: a decoder crash, out of "
    "memory, or a photo past INTAKE_PHOTO_TIMEOUT_SECONDS); "
    "`mam_intake_uploads_in_progress` (large request bodies being received, up to "
    "INTAKE_MAX_UPLOADS); and the client library's "
    "`process_*` (resident memory, CPU time, file descriptors of this process, not of "
    "its photo workers) and `python_gc_*` (garbage collections by generation). "
    "**Counted from the database** at each scrape (the same from every replica, kept "
    "across restarts): `mam_intake_reports_total{category,channel}` (reports filed, "
    "every category listed, by channel: `app` or `open311`); "
    "`mam_intake_outbox_events{state}` (events for the adapter `pending`: queued, being "
    "sent or waiting out a retry, or `dead`: retry budget spent) and "
    "`mam_intake_outbox_oldest_pending_age_seconds` (0 when none is pending); "
    "`mam_intake_inbox_unhandled{source}` (messages from the adapter stored but not acted "
    "on, listed at `GET /v1/operator/inbox` for a replay) and "
    "`mam_intake_inbox_oldest_unhandled_age_seconds`; "
    "`mam_intake_notification_deliveries{channel,state}` (push and e-mail deliveries "
    "`pending` or `dead`) and `mam_intake_notification_attempts{channel,outcome}` "
    "(attempts `sent` or `failed` so far, falling only when an erased account's "
    "notifications go)."
)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description=DESCRIPTION,
    response_class=Response,
    responses={
        200: {
            "description": "Metrics in the Prometheus text exposition format.",
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "# TYPE mam_http_request_duration_seconds histogram\n"
                    "mam_http_request_duration_seconds_bucket{"
                    'route="/v1/reports/{report_id}",method="GET",status="2xx",'
                    'le="0.05"} 1204.0\n'
                    "mam_http_request_duration_seconds_count{"
                    'route="/v1/reports/{report_id}",method="GET",status="2xx"} '
                    "1233.0\n"
                    "# TYPE mam_event_loop_lag_seconds histogram\n"
                    'mam_event_loop_lag_seconds_bucket{le="0.001"} 5120.0\n'
                    'mam_event_loop_lag_seconds_bucket{le="0.0025"} 5187.0\n'
                    "mam_event_loop_lag_seconds_count 5190.0\n"
                    "mam_event_loop_lag_seconds_sum 2.31\n"
                    "# TYPE mam_intake_photos_waiting gauge\n"
                    "mam_intake_photos_waiting 4.0\n"
                    "# TYPE mam_intake_outbox_events gauge\n"
                    'mam_intake_outbox_events{state="pending"} 2.0\n'
                    'mam_intake_outbox_events{state="dead"} 0.0\n',
                }
            },
        }
    },
)
async def read_metrics(session: SessionDep, request: Request) -> Response:
    counted = Snapshot(await database_families(session, now=utcnow()))
    await session.commit()  # read only: ends the transaction before the page is sent
    state = request.app.state
    registry: CollectorRegistry = state.metrics
    requests: RequestMetrics = state.request_metrics
    return Response(render(requests, registry, counted), media_type=CONTENT_TYPE_LATEST)
