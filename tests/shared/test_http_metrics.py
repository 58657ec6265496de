"""The requests' histogram: labelled by route template, method and status class, timed
until the response starts, on an app of its own (the services' own are tried in their
metrics tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from shared.http_metrics import RequestMetrics, RequestMetricsMiddleware


class Clock:
    """A timer the endpoints move on, in seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics() -> RequestMetrics:
    return RequestMetrics()


@pytest.fixture
async def client(
    clock: Clock, metrics: RequestMetrics
) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()

    @app.get("/items/{item_id:int}")
    async def read_item(item_id: int) -> dict[str, int]:
        clock.now += 0.2  # the work before the answer
        return {"id": item_id}

    @app.get("/boom")
    async def fail() -> None:
        raise RuntimeError("a bug")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            clock.now += 600  # a long stream, or a phone reading slowly
            yield b"second"

        return StreamingResponse(chunks())

    app.add_middleware(
        RequestMetricsMiddleware, metrics=metrics, routes=app.router.routes, timer=clock
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def observed(metrics: RequestMetrics) -> dict[tuple[str, str, str, str], float]:
    """Samples by (name, route, method, status), `le` left out of the buckets' names."""
    registry = CollectorRegistry()
    registry.register(metrics)
    text = generate_latest(registry).decode()
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            name = sample.name
            if "le" in labels:
                name = f"{name}{{le={labels['le']}}}"
            key = (name, labels["route"], labels["method"], labels["status"])
            found[key] = sample.value
    return found


async def test_routes_are_their_templates_and_the_status_its_class(client, metrics):
    for item in (1, 2, 3):
        assert (await client.get(f"/items/{item}")).status_code == 200
    assert (await client.get("/items/not-a-number")).status_code == 404
    assert (await client.head("/items/4")).status_code == 405
    found = observed(metrics)
    count = "mam_http_request_duration_seconds_count"
    assert found[(count, "/items/{item_id}", "GET", "2xx")] == 3
    assert found[(count, "unmatched", "GET", "4xx")] == 1
    assert found[(count, "/items/{item_id}", "HEAD", "4xx")] == 1


async def test_requests_are_timed_until_the_response_starts(client, metrics):
    await client.get("/items/7")
    response = await client.get("/stream")
    assert response.content == b"firstsecond"
    found = observed(metrics)
    total = "mam_http_request_duration_seconds_sum"
    assert found[(total, "/items/{item_id}", "GET", "2xx")] == pytest.approx(0.2)
    assert found[(total, "/stream", "GET", "2xx")] == 0
    bucket = "mam_http_request_duration_seconds_bucket"
    assert found[(f"{bucket}{{le=0.1}}", "/items/{item_id}", "GET", "2xx")] == 0
    assert found[(f"{bucket}{{le=0.25}}", "/items/{item_id}", "GET", "2xx")] == 1


async def test_an_error_is_counted_once_as_a_5xx(client, metrics):
    assert (await client.get("/boom")).status_code == 500
    found = observed(metrics)
    assert (
        found[("mam_http_request_duration_seconds_count", "/boom", "GET", "5xx")] == 1
    )


async def test_any_method_outside_http_s_usual_ones_is_other(client, metrics):
    for method in ("PURGE", "BREW", "X-ANYTHING"):
        assert (await client.request(method, "/items/1")).status_code == 405
    found = observed(metrics)
    count = "mam_http_request_duration_seconds_count"
    assert found[(count, "/items/{item_id}", "other", "4xx")] == 3
    assert {method for _, _, method, _ in found} == {"other"}
