"""Intake's GET /metrics: the event loop's lag and the photo decoding, for Prometheus."""

from __future__ import annotations

from tests.helpers import eventually


async def test_metrics_show_the_event_loop_lag_and_the_photo_decoding(intake):
    async def lag_sampled() -> str | None:
        text = (await intake.get("/metrics")).text
        return text if "mam_event_loop_lag_seconds_count 0.0" not in text else None

    text = await eventually(lag_sampled, what="a lag sample")
    response = await intake.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'mam_event_loop_lag_seconds_bucket{le="0.02"}' in text
    assert "mam_intake_photos_waiting 0.0" in text
    assert "mam_intake_photo_pixels_decoding 0.0" in text
    assert "mam_intake_photo_workers_running 0.0" in text
    assert "mam_intake_photo_worker_deaths_total 0.0" in text
    assert "process_resident_memory_bytes " in text
    assert 'python_gc_collections_total{generation="2"}' in text


async def test_metrics_are_documented_with_an_example(intake):
    operation = (await intake.get("/openapi.json")).json()["paths"]["/metrics"]["get"]
    assert "mam_event_loop_lag_seconds" in operation["description"]
    example = operation["responses"]["200"]["content"]["text/plain"]["example"]
    assert "mam_event_loop_lag_seconds_bucket" in example
