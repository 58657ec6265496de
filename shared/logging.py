"""Logging set up once per process: dotted event names with their fields, text or JSON."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from opentelemetry import trace

from shared import request_ids

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        return f"{line} {fields}" if fields else line


class RequestContext(logging.Filter):
    """Adds to each line written while a request or a message is handled the request's id
    (`request_id`, when there is a request) and the current span's `trace_id` and
    `span_id` (hex, as tracing tools show them), so that one report can be followed through
    every process's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_ids.current()
        if request_id is not None and "request_id" not in record.__dict__:
            record.request_id = request_id
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


class _AnonymousAccess(logging.Filter):
    """uvicorn's access lines without the client's address and the query string.

    An IP address is personal data, and a query can carry a resident's position.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, str(path).split("?", 1)[0], version, status)
        return True


class _LoggedAlready(logging.Filter):
    """Drops uvicorn's "Exception in ASGI application": the service's own handler logged
    the failure (its type and traceback, `request.failed`), and the message uvicorn adds
    can quote a resident's data (a database error names the row it failed on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Exception in ASGI application")


def configure_logging(*, json_output: bool = False, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestContext())
    handler.setFormatter(
        JsonFormatter()
        if json_output
        else TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per request is uvicorn's access log; httpx's own would repeat each relay call.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _AnonymousAccess) for f in access.filters):
        access.addFilter(_AnonymousAccess())
    errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _LoggedAlready) for f in errors.filters):
        errors.addFilter(_LoggedAlready())
