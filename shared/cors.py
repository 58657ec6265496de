"""Cross-origin calls from browsers: the city's web apps on origins of their own (CORS).

Each service names the origins it lets in (`INTAKE_CORS_ORIGINS`, `ADAPTER_CORS_ORIGINS`);
none by default, and then the app has no CORS layer at all: browsers let only pages of the
service's own origin read its answers. Starlette's `CORSMiddleware` does the work, with two
changes: an answer to an origin not let in carries no CORS header (Starlette adds
`Access-Control-Expose-Headers` to it), and a preflight that fails (another origin, method
or header) is answered by the app as any `OPTIONS` request is, with a localized problem,
rather than with Starlette's plain-text 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import FastAPI
from pydantic import AfterValidator
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

ANY_ORIGIN = "*"

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
"""The methods the APIs take (a preflight is only made for PUT, PATCH and DELETE, or for the
others with a header beyond the CORS-safelisted ones)."""

REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept-Language",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "Last-Event-ID",
    "X-API-Key",
    "X-Device-Id",
    "X-Request-ID",
    "traceparent",
    "tracestate",
)
"""The request headers the APIs read (and tracing passes on)."""

EXPOSED_HEADERS = (
    "Content-Language",
    "ETag",
    "Idempotent-Replayed",
    "Location",
    "Retry-After",
    "X-Request-ID",
)
"""The response headers clients read; a browser shows a page of another origin only the
CORS-safelisted ones (Content-Type, Cache-Control, ...) and these."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(value: str) -> str:
    """`value` as browsers write an origin (`scheme://host[:port]`, lower case, no default
    port), or `*`; ValueError for anything else (a path, a query, a user name)."""
    text = value.strip()
    if text == ANY_ORIGIN:
        return text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        port, parts = None, None
    if (
        parts is None
        or not parts.scheme
        or not parts.hostname
        or not text.lower().startswith(f"{parts.scheme}://")
        or parts.path
        or parts.query
        or parts.fragment
        or "?" in text
        or "#" in text
        or parts.username is not None
        or parts.password is not None
    ):
        raise ValueError(
            f"{value!r} is not an origin: give scheme://host[:port], "
            "e.g. https://app.example.org, with no path"
        )
    host = parts.hostname
    if ":" in host:  # an IPv6 address, written in brackets
        host = f"[{host}]"
    scheme = parts.scheme.lower()
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


Origin = Annotated[str, AfterValidator(origin)]
"""A setting's origin, checked and written as browsers send it."""


class _Cors(CORSMiddleware):
    """`CORSMiddleware` that says nothing to an origin it does not let in."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await super().__call__(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "origin" in headers and "access-control-request-method" in headers:
            preflight = self.preflight_response(request_headers=headers)
            if preflight.status_code == 200:
                await preflight(scope, receive, send)
            else:
                # Not let in: the browser refuses the call without a CORS header, and the
                # client is answered as the app answers any OPTIONS request.
                await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def send(
        self, message: Message, send: Send, request_headers: Headers
    ) -> None:
        if message["type"] != "http.response.start":
            await send(message)
            return
        origin = request_headers.get("origin")
        if origin is not None and self.is_allowed_origin(origin):
            await super().send(message, send, request_headers)
            return
        # Whether the answer would carry CORS headers depends on the origin.
        message.setdefault("headers", [])
        headers = MutableHeaders(scope=message)
        headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
        await send(message)


def add_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Let the web apps of `origins` call the app from browsers; none: no CORS layer."""
    if not origins:
        return
    app.add_middleware(
        _Cors,
        allow_origins=list(origins),
        allow_methods=list(METHODS),
        allow_headers=list(REQUEST_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        # Bearer tokens and operator keys travel in headers; no cookie is read.
        allow_credentials=False,
    )
