"""Every answer carries its request's id, and every log line of a request carries that id
and the request's trace, in both log formats."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from intake_service.config import Settings as IntakeSettings
from shared import request_ids, tracing
from shared.errors import install_error_handlers
from shared.logging import JsonFormatter, RequestContext, TextFormatter
from tests.tracing import PARENT_SPAN, TRACE, TRACEPARENT

SANE = re.compile(request_ids.PATTERN)


def probe_app() -> FastAPI:
    """An app with the services' error handlers and tracing: one route logs, one fails."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/probe")
    async def probe() -> dict[str, str]:
        logging.getLogger("tests.probe").info("probe.logged", extra={"n": 1})
        return {}

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("boom")

    tracing.install(app, IntakeSettings(_env_file=None, environment="test"))
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    # As a server does: an unexpected error is answered with a 500, then raised for it.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def lines(formatter: logging.Formatter) -> Iterator[io.StringIO]:
    """What the root logger writes through a handler as `configure_logging` sets it up."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.addFilter(RequestContext())
    handler.setFormatter(formatter)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield output
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    yield from lines(JsonFormatter())


@pytest.fixture
def text_lines() -> Iterator[io.StringIO]:
    yield from lines(TextFormatter("%(levelname)s %(name)s %(message)s"))


def entries(output: io.StringIO, event: str) -> list[dict]:
    found = [json.loads(line) for line in output.getvalue().splitlines()]
    return [entry for entry in found if entry["event"] == event]


class TestTheAnswer:
    async def test_every_answer_carries_a_new_id_when_none_was_sent(self, intake):
        ids = [(await intake.get("/healthz")).headers["x-request-id"] for _ in "ab"]
        assert all(SANE.fullmatch(i) for i in ids)
        assert ids[0] != ids[1]

    async def test_the_callers_id_is_kept(self, intake):
        answer = await intake.get("/healthz", headers={"X-Request-ID": "req-42:abc"})
        assert answer.headers["x-request-id"] == "req-42:abc"

    @pytest.mark.parametrize(
        "sent", ["bad id!", "zofia@example.org", "x" * 101, "semi;colon"]
    )
    async def test_an_id_that_is_not_sane_is_replaced(self, intake, sent):
        answer = await intake.get("/healthz", headers={"X-Request-ID": sent})
        assert answer.headers["x-request-id"] != sent
        assert SANE.fullmatch(answer.headers["x-request-id"])

    async def test_a_problem_and_an_unexpected_failure_carry_it_too(self):
        async with client(probe_app()) as http:
            missing = await http.get("/nowhere", headers={"X-Request-ID": "r-404"})
            failed = await http.get("/boom", headers={"X-Request-ID": "r-500"})
        assert (missing.status_code, missing.headers["x-request-id"]) == (404, "r-404")
        assert (failed.status_code, failed.headers["x-request-id"]) == (500, "r-500")


class TestLogLines:
    async def test_a_requests_lines_carry_its_id_and_trace_in_json(self, json_lines):
        async with client(probe_app()) as http:
            await http.get(
                "/probe", headers={"X-Request-ID": "r-1", "traceparent": TRACEPARENT}
            )
        [entry] = entries(json_lines, "probe.logged")
        assert (entry["request_id"], entry["trace_id"], entry["n"]) == ("r-1", TRACE, 1)
        # The request's own span, a child of the caller's.
        assert re.fullmatch(r"[0-9a-f]{16}", entry["span_id"])
        assert entry["span_id"] != PARENT_SPAN

    async def test_a_requests_lines_carry_its_id_and_trace_in_text(self, text_lines):
        async with client(probe_app()) as http:
            await http.get(
                "/probe", headers={"X-Request-ID": "r-2", "traceparent": TRACEPARENT}
            )
        [line] = [x for x in text_lines.getvalue().splitlines() if "probe.logged" in x]
        assert f"request_id=r-2 trace_id={TRACE} span_id=" in line

    async def test_the_line_of_an_unexpected_failure_carries_them(self, json_lines):
        async with client(probe_app()) as http:
            answer = await http.get("/boom")
        [entry] = entries(json_lines, "request.failed")
        assert entry["request_id"] == answer.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", entry["trace_id"])

    async def test_a_request_without_a_trace_starts_one(self, json_lines):
        async with client(probe_app()) as http:
            await http.get("/probe")
            await http.get("/probe")
        first, second = entries(json_lines, "probe.logged")
        assert first["trace_id"] != second["trace_id"]

    def test_a_line_outside_requests_and_spans_has_no_ids(self, json_lines):
        logging.getLogger("tests.probe").info("probe.idle")
        [entry] = entries(json_lines, "probe.idle")
        assert not {"request_id", "trace_id", "span_id"} & set(entry)

    def test_a_line_in_a_span_of_a_loop_has_its_trace_and_no_request_id(
        self, text_lines
    ):
        with tracing.continued(TRACEPARENT, "tests.loop"):
            logging.getLogger("tests.probe").info("probe.looped")
        [line] = text_lines.getvalue().splitlines()
        assert f"trace_id={TRACE}" in line
        assert "request_id" not in line
