"""What every request is checked for: a body no larger than its address takes (one 413,
however it is found out), and an address without NUL characters."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import AppError, request_language, respond
from shared.i18n import N_

MAX_BODY_BYTES = 1024 * 1024
"""Largest request body a JSON endpoint reads; bigger ones get 413 before they fill memory."""
MAX_SIGNED_BODY_BYTES = 64 * 1024
"""Largest body of a CRM's signed webhook (one status change)."""
MAX_EVENT_BODY_BYTES = MAX_BODY_BYTES
"""Largest body of a signed event between the services: a catalog or routing event carries
every category or unit (at most 500 of them, some 750 KB at the longest names)."""


class BodyTooLarge(AppError):
    status_code = 413
    code = "body-too-large"
    title = N_("Request body too large")
    detail = N_("The request body is larger than this address accepts.")


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request's body, refused with BodyTooLarge as soon as it grows past `max_bytes`."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise BodyTooLarge()
    return bytes(body)


class BodyLimitMiddleware:
    """413 problem+json for a request body over `max_bytes`, before it fills memory.

    A declared Content-Length over the limit is refused unread; a body that grows past it
    while streaming stops there. `overrides` sets other limits for (method, path) pairs,
    e.g. an upload endpoint.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        overrides: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = dict(overrides or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.overrides.get(
            (scope["method"], scope["path"].rstrip("/") or "/"), self.max_bytes
        )
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            request = Request(scope)
            error = BodyTooLarge()
            body = error.body(request_language(request))
            await respond(request, error.status_code, body)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)


class NulInAddress(AppError):
    status_code = 400
    code = "nul-in-address"
    title = N_("Invalid character in the address")
    detail = N_(
        "The address or its query holds a NUL character, which nothing here takes."
    )


class NulGuardMiddleware:
    """400 problem+json for a path or query holding a NUL character (`%00`).

    No parameter of either service takes one, and PostgreSQL refuses it in text: caught
    here, it never reaches a query as a 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            request = Request(scope)
            error = NulInAddress()
            body = error.body(request_language(request))
            await respond(request, error.status_code, body)(scope, receive, send)
            return
        await self.app(scope, receive, send)
