"""Request ids: each request's `X-Request-ID`, the client's (or its proxy's) when it sent a
sane one, else one made here; answered on every response (`shared.tracing`), written on the
log lines of the request (`shared.logging`) and kept by the audit log (`shared.operators`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"

PATTERN = r"^[A-Za-z0-9._:-]{1,100}$"
"""What a request id may be: letters, digits and `._:-`, so that one never carries an
e-mail address, a space or a line break into a log line."""

_SANE = re.compile(PATTERN.removeprefix("^").removesuffix("$"))

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def sane(value: str | None) -> str | None:
    """`value` when it looks like a request id (else None)."""
    return value if value is not None and _SANE.fullmatch(value) else None


def new() -> str:
    """A request id for a request that came without a sane one."""
    return uuid.uuid4().hex


def current() -> str | None:
    """The id of the request being handled, if any."""
    return _current.get()


@contextmanager
def bound(request_id: str) -> Iterator[None]:
    """`request_id` is the current request's while the block runs."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)
