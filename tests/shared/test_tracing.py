"""A request's trace goes on with the outbox events it writes, and spans reach an OTLP
receiver when one is configured, under the service's name."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from sqlalchemy import select

from crm_adapter.config import Settings as AdapterSettings
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings
from intake_service.db import OutboxEvent
from shared import tracing
from shared.db import make_engine, make_sessionmaker
from shared.outbox import add_event
from shared.relay import OutboxRelay
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from shared.signing import Signer, Verifier
from tests.helpers import POTHOLE, serve
from tests.shared.test_outbox import envelope
from tests.tracing import PARENT_SPAN, TRACE, TRACEPARENT, Spans, hex_trace, trace_of
from tests.tracing import recorded_spans as spans_of


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spans]:
    yield from spans_of(monkeypatch)


@pytest.fixture
async def sessionmaker(intake_settings):
    engine = make_engine(intake_settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


class Adapter:
    """Takes every event, as the adapter would, keeping the requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        Verifier([DEV_SECRETS["intake_to_adapter"]]).verify(
            request.content, request.headers
        )
        self.requests.append(request)
        return httpx.Response(202)


def relay(sessionmaker, adapter: Adapter) -> OutboxRelay:
    return OutboxRelay(
        sessionmaker=sessionmaker,
        model=OutboxEvent,
        client=httpx.AsyncClient(transport=httpx.MockTransport(adapter)),
        url="http://adapter/internal/events",
        signer=Signer(DEV_SECRETS["intake_to_adapter"]),
        backoff=Backoff(base=2.0, cap=1800.0, budget=dt.timedelta(hours=72)),
    )


async def outbox(sessionmaker) -> list[OutboxEvent]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(OutboxEvent))).all())


class TestAcrossTheOutbox:
    async def test_an_event_keeps_the_requests_trace_and_is_sent_in_it(
        self, intake, sessionmaker
    ):
        created = await intake.post(
            "/v1/reports", json=POTHOLE, headers={"traceparent": TRACEPARENT}
        )
        assert created.status_code == 201, created.text
        [row] = await outbox(sessionmaker)
        assert trace_of(row.traceparent) == TRACE
        assert PARENT_SPAN not in (row.traceparent or "")  # the request's own span

        adapter = Adapter()
        assert await relay(sessionmaker, adapter).run_once() == 1
        [sent] = adapter.requests
        assert trace_of(sent.headers["traceparent"]) == TRACE
        assert sent.headers["traceparent"] != row.traceparent  # the send's own span

    async def test_an_event_written_outside_any_trace_is_sent_in_a_new_one(
        self, sessionmaker, spans
    ):
        report = uuid.uuid4()
        async with sessionmaker() as session:
            add_event(session, OutboxEvent, envelope(report), aggregate_id=report)
            await session.commit()
        [row] = await outbox(sessionmaker)
        assert row.traceparent is None
        adapter = Adapter()
        await relay(sessionmaker, adapter).run_once()
        [send] = spans.named("outbox.send")
        assert trace_of(adapter.requests[0].headers["traceparent"]) == hex_trace(send)
        assert send.parent is None


class TestContinued:
    def test_a_stored_trace_is_continued_and_linked_to_the_current_one(self, spans):
        with tracing.span("request") as request, tracing.continued(TRACEPARENT, "work"):
            pass
        [work] = spans.named("work")
        assert hex_trace(work) == TRACE
        assert work.parent is not None
        assert format(work.parent.span_id, "016x") == PARENT_SPAN
        assert [link.context for link in work.links] == [request.get_span_context()]

    @pytest.mark.parametrize("stored", [None, "", "00-not-a-traceparent-01"])
    def test_without_a_stored_trace_the_current_one_goes_on(self, spans, stored):
        with tracing.span("request") as request, tracing.continued(stored, "work"):
            pass
        [work] = spans.named("work")
        assert work.context.trace_id == request.get_span_context().trace_id
        assert not work.links

    def test_a_failure_marks_the_span_with_its_type_only(self, spans):
        with pytest.raises(ValueError, match="zofia"), tracing.span("work"):
            raise ValueError("zofia@example.org")
        [work] = spans.named("work")
        assert (work.status.is_ok, work.status.description) == (False, "ValueError")
        assert not work.events  # no exception event, which would quote the message


class TestSetup:
    def test_each_service_has_a_name_of_its_own(self):
        names = (
            IntakeSettings(_env_file=None).service_name,
            AdapterSettings(_env_file=None).service_name,
        )
        assert names == ("mam-intake", "mam-adapter")

    def test_the_service_is_named_after_its_settings_or_otel_service_name(
        self, monkeypatch
    ):
        for name in ("_provider", "_configured_as", "_tracer"):
            monkeypatch.setattr(tracing, name, None)
        monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
        named = tracing.setup("mam-adapter").resource.attributes["service.name"]
        monkeypatch.setenv("OTEL_SERVICE_NAME", "mam-adapter-blue")
        renamed = tracing.setup("mam-adapter").resource.attributes["service.name"]
        assert (named, renamed) == ("mam-adapter", "mam-adapter-blue")

    @pytest.mark.parametrize(
        ("env", "endpoint"),
        [
            ({}, None),
            (
                {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"},
                "http://c:4318/v1/traces",
            ),
            (
                {
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/spans",
                },
                "http://t:4318/spans",
            ),
            (
                {
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                    "OTEL_TRACES_EXPORTER": "none",
                },
                None,
            ),
        ],
    )
    def test_spans_are_exported_only_where_the_environment_says(
        self, monkeypatch, env, endpoint
    ):
        for name in (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_TRACES_EXPORTER",
        ):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert tracing.export_endpoint() == endpoint

    def test_a_process_that_does_not_export_never_imports_the_exporter(self):
        env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
        code = (
            "import sys; from shared import tracing; tracing.setup('mam-intake'); "
            "print([m for m in sys.modules if m.startswith('opentelemetry.exporter')])"
        )
        run = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True
        )
        assert (run.returncode, run.stdout.strip()) == (0, "[]"), run.stderr


class OtlpReceiver:
    """A collector's OTLP/HTTP endpoint: keeps the body of every POST to /v1/traces."""

    def __init__(self) -> None:
        bodies: list[bytes] = []
        self.bodies = bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if self.path == "/v1/traces":
                    bodies.append(body)
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )

    def spans(self) -> list[tuple[str, str, str]]:
        """(service name, span name, trace id) of every span received."""
        found = []
        for body in self.bodies:
            for resource_spans in ExportTraceServiceRequest.FromString(
                body
            ).resource_spans:
                attributes = {
                    a.key: a.value.string_value
                    for a in resource_spans.resource.attributes
                }
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        found.append(
                            (attributes["service.name"], span.name, span.trace_id.hex())
                        )
        return found


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


async def test_spans_reach_an_otlp_receiver_under_the_services_name(
    intake_settings, receiver, monkeypatch
):
    # The process's tracing as it was is put back after the test.
    for name in ("_provider", "_configured_as", "_tracer"):
        monkeypatch.setattr(tracing, name, None)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    async for intake in serve(create_intake(intake_settings)):
        assert (
            await intake.get("/healthz", headers={"traceparent": TRACEPARENT})
        ).status_code == 200
    provider = tracing.setup(intake_settings.service_name)
    assert provider.force_flush()
    provider.shutdown()
    assert ("mam-intake", "GET /healthz", TRACE) in receiver.spans()
