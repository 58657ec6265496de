"""Requests' rate, errors and latency per route template, for Prometheus: a pure ASGI
middleware timing each request into a histogram kept by the process.

The route is the template the request matched (`/v1/reports/{report_id}`), never the path
sent: a path names a report, and every distinct one would make a new series. Paths no route
takes share one label, `unmatched`, and methods outside HTTP's usual ones share `other`, so
nothing a client sends can grow the label set. A request is timed until its status and
headers are sent: what the service made the client wait for, not how long a phone took to
read a photo or how long a stream stayed open.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NAME = "mam_http_request_duration_seconds"

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Upper bounds (seconds): a phone's reads answer in tens of milliseconds; a report with
photos from a slow connection takes seconds to arrive and decode."""

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
UNMATCHED = "unmatched"
"""The `route` of a request no route takes (a 404 for an unknown path, a redirect)."""


class RequestMetrics(Collector):
    """The histogram one app's requests are timed into; a collector for its `/metrics`."""

    def __init__(self) -> None:
        self.histogram = Histogram(
            NAME,
            "Time from a request's arrival until its status and headers were sent, by "
            "route template (`unmatched`: no route took it), method and status class "
            "(2xx, 4xx, 5xx, ...); counted by this process alone since it started "
            "(sum over the processes).",
            ("route", "method", "status"),
            buckets=BUCKETS,
            registry=None,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else OTHER_METHOD
        self.histogram.labels(route, method, f"{status // 100}xx").observe(seconds)

    def collect(self) -> Iterable[Metric]:
        return self.histogram.collect()


class RequestMetricsMiddleware:
    """Times each HTTP request into `metrics`, labelled with the route it matched."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: RequestMetrics,
        routes: list[Any],
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        """`routes` is the app's list, which its routers fill after this is added."""
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.timer = timer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = self.timer()
        # Where the request was sent, before a mount rewrote the scope's paths.
        sent_to = {"path": scope["path"], "root_path": scope.get("root_path", "")}
        started = False

        async def timed_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                self._observe(scope, sent_to, message["status"], start)
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        except Exception:
            # The server answers 500 for it, outside this middleware.
            if not started:
                self._observe(scope, sent_to, 500, start)
            raise

    def _observe(
        self, scope: Scope, sent_to: dict[str, str], status: int, start: float
    ) -> None:
        self.metrics.observe(
            route_of(scope, self.routes, sent_to),
            scope["method"],
            status,
            self.timer() - start,
        )


def route_of(
    scope: Scope, routes: Iterable[Any], sent_to: dict[str, str] | None = None
) -> str:
    """The template of the route the request matched, or `UNMATCHED`.

    The router notes the route in the scope; a request answered before it was routed (a
    body too large, a flood guard's refusal), or by an app mounted under a path, is matched
    here against the app's routes, at the paths in `sent_to` (those it came with).
    """
    route = scope.get("route")
    if route is None:
        _, route = _matching(routes, {**scope, **(sent_to or {})})
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED


def _matching(routes: Iterable[Any], scope: Scope) -> tuple[Match, Any]:
    """The first route taking the request, else the first taking its path with another
    method (answered 405), as the router chooses."""
    partial = None
    for route in routes:
        # Routers included without a prefix of their own carry their routes inside.
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is not None:
            match, found = _matching(inner, scope)
        else:
            (match, _), found = route.matches(scope), route
        if match is Match.FULL:
            return match, found
        if match is Match.PARTIAL and partial is None:
            partial = found
    return (Match.NONE, None) if partial is None else (Match.PARTIAL, partial)


def add_request_metrics(app: Any) -> RequestMetrics:
    """Time the app's requests (outside the middleware added before, so that their
    refusals count too); the metrics are also `app.state.request_metrics`."""
    metrics = RequestMetrics()
    app.state.request_metrics = metrics
    app.add_middleware(
        RequestMetricsMiddleware, metrics=metrics, routes=app.router.routes
    )
    return metrics
