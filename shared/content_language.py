"""`Content-Language` and `Vary: Accept-Language` on the answers whose texts are in the
language the request asked for (`?lang=`, `?locale=` or `Accept-Language`).

An answer is in a language when something chose one for it from the request: every error
(`shared.errors`), and every route that takes the language (`lang`, `locale`) for its texts:
categories, reports and their status labels, Open311, surveys, ideas. `shared.i18n.negotiate`
notes the choice; this layer reads it when the answer starts. Answers that chose none (a
photo's bytes, `/metrics`, `/healthz`) claim no language, and caches keep one copy of them.
A route that set `Content-Language` itself keeps its own.

Pure ASGI: one small wrapper of `send` per request, no task or body buffering as
`BaseHTTPMiddleware` would add.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.i18n import answering

VARY_ON = "Accept-Language"


class ContentLanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with answering() as answer:

            async def send_with_language(message: Message) -> None:
                if message["type"] == "http.response.start" and answer.lang is not None:
                    message.setdefault("headers", [])
                    headers = MutableHeaders(scope=message)
                    headers.setdefault("Content-Language", answer.lang)
                    add_vary(headers, VARY_ON)
                await send(message)

            await self.app(scope, receive, send_with_language)


def add_vary(headers: MutableHeaders, name: str) -> None:
    """Add `name` to the answer's `Vary`, after what is there, unless it is there."""
    values = headers.getlist("vary")
    listed = {token.strip().lower() for value in values for token in value.split(",")}
    if name.lower() not in listed and "*" not in listed:
        # Setting replaces every `Vary` line: all of them are kept, joined in this one.
        headers["Vary"] = ", ".join([*values, name])


def add_content_language(app: FastAPI) -> None:
    """Tell clients and caches the language of each answer that has one."""
    app.add_middleware(ContentLanguageMiddleware)
