"""An Open311 client's photo host on loopback, which the test makes fast, slow, flaky or
gone: a real HTTP server, since slowness and dropped answers are what is tried."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.images import encode, gps_exif, noise
from tests.live import live

WROCLAW_EXIF = ((51.0, 6.0, 34.92), "N", (17.0, 1.0, 57.36), "E")
"""A position in Wrocław, as a camera writes it."""


@functools.cache
def small_photo() -> bytes:
    """A small JPEG taken in Wrocław (with its GPS)."""
    return encode(noise((64, 48)), "JPEG", exif=gps_exif(*WROCLAW_EXIF))


@functools.cache
def large_photo() -> bytes:
    """A photo past the 1 MB that uploads keep in memory, with GPS; made once."""
    photo = encode(
        noise((1600, 1200)), "JPEG", quality=95, exif=gps_exif(*WROCLAW_EXIF)
    )
    assert len(photo) > 1024 * 1024
    return photo


@dataclass
class PhotoHost:
    """`/photo.jpg` and `/large.jpg` answer a photo; `/missing.jpg` 404; `/moved.jpg`
    redirects; `/hangs.jpg` never answers; `/later.jpg` hangs until `answer_later()`, then
    answers the photo; `/flaky.jpg` answers 503 `flaky` times, then the photo; `/huge.jpg`
    streams 17 MB; `/note.txt` is text. Each request's path and `Host` are in `requests`."""

    url: str = ""
    flaky: int = 1
    requests: list[tuple[str, str]] = field(default_factory=list)
    _answering: asyncio.Event = field(default_factory=asyncio.Event)
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    def link(self, path: str) -> str:
        return self.url + path

    def asked(self, path: str) -> int:
        """How many requests for `path` came."""
        return sum(1 for asked, _ in self.requests if asked == path)

    def answer_later(self) -> None:
        """From now on, `/later.jpg` answers (those waiting too)."""
        self._answering.set()

    def app(self) -> Starlette:
        async def photo(request: Request) -> Response:
            self._seen(request)
            return Response(small_photo(), media_type="image/jpeg")

        async def large(request: Request) -> Response:
            self._seen(request)
            return Response(large_photo(), media_type="image/jpeg")

        async def moved(request: Request) -> Response:
            self._seen(request)
            return RedirectResponse("/photo.jpg", status_code=302)

        async def hangs(request: Request) -> Response:
            self._seen(request)
            await self._closing.wait()
            return Response(b"")

        async def later(request: Request) -> Response:
            self._seen(request)
            await _first(self._answering, self._closing)
            return Response(small_photo(), media_type="image/jpeg")

        async def flaky(request: Request) -> Response:
            self._seen(request)
            if self.flaky > 0:
                self.flaky -= 1
                return Response(b"busy", status_code=503)
            return Response(small_photo(), media_type="image/jpeg")

        async def huge(request: Request) -> StreamingResponse:
            self._seen(request)

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(17 * 16):  # 17 MB, over the 15 MB limit
                    yield bytes(64 * 1024)

            return StreamingResponse(chunks(), media_type="image/jpeg")

        async def note(request: Request) -> Response:
            self._seen(request)
            return Response(b"not a photo", media_type="text/plain")

        async def missing(request: Request) -> Response:
            self._seen(request)
            return Response(b"gone", status_code=404)

        return Starlette(
            routes=[
                Route("/photo.jpg", photo),
                Route("/large.jpg", large),
                Route("/moved.jpg", moved),
                Route("/hangs.jpg", hangs),
                Route("/later.jpg", later),
                Route("/flaky.jpg", flaky),
                Route("/huge.jpg", huge),
                Route("/note.txt", note),
                Route("/missing.jpg", missing),
            ]
        )

    def _seen(self, request: Request) -> None:
        self.requests.append((request.url.path, request.headers.get("host", "")))


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


@contextlib.asynccontextmanager
async def photo_host() -> AsyncIterator[PhotoHost]:
    """A photo host served on a loopback port while the block runs."""
    host = PhotoHost()
    async with live(host.app()) as url:
        host.url = url
        try:
            yield host
        finally:
            host._closing.set()
