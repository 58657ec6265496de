"""Tracing with OpenTelemetry: one trace follows a report through both services.

Each process has a tracer provider (`setup`), its service named `mam-intake` or
`mam-adapter` unless `OTEL_SERVICE_NAME` names it. Spans are always made, so that every log
line written while a request or a message is handled carries its trace id
(`shared.logging`); they leave the process only when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
`OTEL_EXPORTER_OTLP_ENDPOINT` says where, over OTLP/HTTP, and the exporter (and with it
protobuf and requests) is imported only then. The SDK itself is imported by `setup`, not by
the commands that only import the app (`migrate`, `operator-key`).

The context crosses the services as a W3C `traceparent` header (`RequestTracing` reads it,
`trace_headers` writes it), and the asynchronous hops as the same text kept in the row that
carries the work (`TracedMixin`: an outbox event, a case, a notification's delivery): the
loop that takes the row up continues that trace (`continued`).

The ASGI and httpx instrumentation libraries are not used: they record the client's address
and whole URLs with their query strings (a resident's position, a phone's push token), which
the logs are careful to leave out. The spans here carry methods, routes, statuses and ids.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import request_ids

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from starlette.applications import Starlette

    from shared.settings import ServiceSettings

TRACEPARENT_LENGTH = 55
"""`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`."""

Attributes = Mapping[str, str | int | float | bool]

_PROPAGATOR = TraceContextTextMapPropagator()

_provider: TracerProvider | None = None
_configured_as: tuple[str, str | None] | None = None
_tracer: trace.Tracer | None = None


def export_endpoint() -> str | None:
    """Where spans are sent (OTLP/HTTP), as the standard variables say; None: nowhere."""
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return None
    if endpoint := os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip():
        return endpoint
    if base := os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        return base.rstrip("/") + "/v1/traces"
    return None


def setup(service_name: str) -> TracerProvider:
    """The process's tracer provider, for `service_name` unless `OTEL_SERVICE_NAME` names
    the service; exporting when `export_endpoint` says where. Made again only when the
    name or the endpoint changed (tests build many apps in one process)."""
    global _provider, _configured_as, _tracer
    name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or service_name
    endpoint = export_endpoint()
    if _provider is not None and _configured_as == (name, endpoint):
        return _provider
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    # `Resource.create` adds OTEL_RESOURCE_ATTRIBUTES and the SDK's own attributes.
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    if endpoint is not None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        # Headers, timeout and compression come from the OTEL_EXPORTER_OTLP_* variables.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint)))
    _provider, _configured_as = provider, (name, endpoint)
    _tracer = provider.get_tracer("mam")
    return provider


def tracer() -> trace.Tracer:
    """The process's tracer (set up under the name `mam` if nothing set it up)."""
    if _tracer is None:
        setup("mam")
    assert _tracer is not None
    return _tracer


def trace_headers() -> dict[str, str]:
    """The headers that carry the current span to the service called (`traceparent`, and
    `tracestate` when there is one); none outside any span."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


def current_traceparent() -> str | None:
    """The current span as a `traceparent`, to keep with work a loop takes up later."""
    return trace_headers().get("traceparent")


class TracedMixin:
    """The trace of whatever wrote the row, for the loop that takes the row up later to
    continue (null for rows written before traces were kept, or outside any span)."""

    traceparent: Mapped[str | None] = mapped_column(
        String(TRACEPARENT_LENGTH), default=current_traceparent
    )


def _parent(traceparent: str | None) -> Context | None:
    if not traceparent:
        return None
    context = _PROPAGATOR.extract({"traceparent": traceparent})
    return (
        context if trace.get_current_span(context).get_span_context().is_valid else None
    )


@contextmanager
def continued(
    traceparent: str | None,
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Attributes | None = None,
) -> Iterator[Span]:
    """A span, current while the block runs, in the trace `traceparent` names (a row's),
    linked to the span that was current (the request or poll that took the row up); a
    child of the current span when `traceparent` is None or not one.

    A failure marks the span with its type only: an exception's message can quote a
    resident's data, and spans may leave the process.
    """
    parent = _parent(traceparent)
    links = []
    if parent is not None:
        here = trace.get_current_span().get_span_context()
        there = trace.get_current_span(parent).get_span_context()
        if here.is_valid and here.trace_id != there.trace_id:
            links.append(Link(here))
    with tracer().start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=attributes,
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Attributes | None = None,
) -> AbstractContextManager[Span]:
    """A child of the current span (or a new trace's first), current while the block runs."""
    return continued(None, name, kind=kind, attributes=attributes)


@contextmanager
def new_trace(name: str, *, attributes: Attributes | None = None) -> Iterator[Span]:
    """The first span of a new trace, whatever is current (a poll of the CRM)."""
    with tracer().start_as_current_span(
        name,
        context=Context(),
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as first:
        try:
            yield first
        except BaseException as exc:
            first.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


class RequestTracing:
    """The outermost ASGI layer: each HTTP request gets its id (`shared.request_ids`) and
    a SERVER span continuing the caller's `traceparent`, both current while the app and its
    error handlers run, and every answer carries `X-Request-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = request_ids.sane(headers.get("x-request-id")) or request_ids.new()
        method = str(scope.get("method", "HTTP"))
        server = tracer().start_span(
            method,
            context=_PROPAGATOR.extract(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "mam.request_id": request_id},
        )
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"x-request-id", request_id.encode()),
                    ],
                }
            await send(message)

        with (
            request_ids.bound(request_id),
            trace.use_span(
                server,
                end_on_exit=True,
                record_exception=False,
                set_status_on_exception=False,
            ),
        ):
            try:
                await self.app(scope, receive, send_with_id)
            except BaseException as exc:
                server.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            finally:
                _describe(server, method, scope, status)


def _describe(server: Span, method: str, scope: Scope, status: int | None) -> None:
    """Name the span after the route the request took (a template, never the path with
    its ids), and give it the answer's status."""
    route = getattr(scope.get("route"), "path", None)
    if isinstance(route, str):
        server.update_name(f"{method} {route}")
        server.set_attribute("http.route", route)
    if status is not None:
        server.set_attribute("http.response.status_code", status)
        if status >= 500:
            server.set_status(Status(StatusCode.ERROR))


def install(app: Starlette, settings: ServiceSettings) -> None:
    """Set the process's tracing up and put `RequestTracing` around the app's whole
    middleware stack: outside Starlette's last-resort error handler, so that a 500 carries
    its request id too and the failure's log line its trace."""
    setup(settings.service_name)
    build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return RequestTracing(build())

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
