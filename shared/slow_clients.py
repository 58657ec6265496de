"""Deadlines for clients that send slowly, so that a few hundred of them cannot hold the
service's connections and memory (slowloris).

* Headers: a connection must send a request's whole head within `header_seconds` of
  opening or of starting the request, or it is closed (uvicorn itself waits for ever).
  `deadline_protocol` gives uvicorn's HTTP protocol that deadline.
* Bodies: `SlowBodyMiddleware` answers 408 problem+json to a body that stalls for
  `idle_seconds` or, past `grace_seconds`, arrives slower on average than
  `min_bytes_per_second`; and 503 with `Retry-After` to a large upload beyond the
  `Uploads.limit` already under way (a resident's phone retries; memory stays bounded).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shared.errors import http_problem, problem_response, request_language
from shared.settings import ServiceSettings

BUSY_RETRY_SECONDS = 10
# The rest of a body cut short is never read: the connection cannot carry another request.
_CLOSE = {"Connection": "close"}


def deadline_protocol(header_seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, closing a connection whose request head is not
    complete within `header_seconds` (from the connection's opening, or from the first
    byte of each later request on it)."""

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        _head_deadline: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            if self._head_deadline is None:
                self._head_deadline = self.loop.call_later(
                    header_seconds, self._head_too_slow
                )

        def _disarm(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _head_too_slow(self) -> None:
            self._head_deadline = None
            if not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderDeadlineProtocol


class Uploads:
    """How many uploads are under way in this process, and how many may be."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0


class SlowBodyMiddleware:
    """408 for a body that stalls or trickles, 503 for an upload over the cap (see module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        idle_seconds: float,
        grace_seconds: float,
        min_bytes_per_second: float,
        uploads: Uploads,
        upload_bytes: int = 1024 * 1024,
    ) -> None:
        self.app = app
        self.idle_seconds = idle_seconds
        self.grace_seconds = grace_seconds
        self.min_bytes_per_second = min_bytes_per_second
        self.uploads = uploads
        self.upload_bytes = upload_bytes

    def _is_upload(self, scope: Scope) -> bool:
        """Declared large, or of no declared size (chunked): an upload."""
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            return declared.isdigit() and int(declared) >= self.upload_bytes
        return "chunked" in headers.get("transfer-encoding", "").lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        upload = self._is_upload(scope)
        if upload and self.uploads.active >= self.uploads.limit:
            request = Request(scope)
            body = http_problem(503, request_language(request))
            headers = {"Retry-After": str(BUSY_RETRY_SECONDS), **_CLOSE}
            await problem_response(503, body, headers)(scope, receive, send)
            return
        started = time.monotonic()
        received = 0
        finished = False

        async def timed_receive() -> Message:
            nonlocal received, finished
            if finished:
                return await receive()
            elapsed = time.monotonic() - started
            # The average rate owed so far: nothing in the grace period, then the minimum.
            owed = max(0.0, elapsed - self.grace_seconds) * self.min_bytes_per_second
            if received < owed:
                raise StarletteHTTPException(408, headers=_CLOSE)
            try:
                async with asyncio.timeout(self.idle_seconds):
                    message = await receive()
            except TimeoutError:
                raise StarletteHTTPException(408, headers=_CLOSE) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                finished = not message.get("more_body", False)
            return message

        if upload:
            self.uploads.active += 1
        try:
            await self.app(scope, timed_receive, send)
        finally:
            if upload:
                self.uploads.active -= 1


def add_slow_client_limits(app: Any, settings: ServiceSettings) -> Uploads:
    """Give the app the body deadlines and the upload cap of its settings; the cap's
    counter (for metrics)."""
    uploads = Uploads(settings.max_uploads)
    app.add_middleware(
        SlowBodyMiddleware,
        idle_seconds=settings.body_idle_seconds,
        grace_seconds=settings.body_grace_seconds,
        min_bytes_per_second=settings.body_min_bytes_per_second,
        uploads=uploads,
    )
    return uploads
