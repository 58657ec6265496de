"""A caller's trace to send, and the spans a test's code made, kept in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from shared import tracing

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE}-{PARENT_SPAN}-01"
"""A caller's `traceparent` (the W3C specification's example)."""


def trace_of(traceparent: str | None) -> str | None:
    """The trace id of a `traceparent`."""
    return traceparent.split("-")[1] if traceparent else None


def hex_trace(span: ReadableSpan) -> str:
    return format(span.context.trace_id, "032x")


class Spans:
    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self._exporter = exporter

    def named(self, name: str) -> list[ReadableSpan]:
        """The ended spans called `name`, in the order they ended."""
        return [s for s in self._exporter.get_finished_spans() if s.name == name]


def recorded_spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spans]:
    """Every span made through `shared.tracing` while the test runs, kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "tracer", lambda: provider.get_tracer("tests"))
    yield Spans(exporter)
    provider.shutdown()
