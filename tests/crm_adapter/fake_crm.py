"""CRMs that misbehave on cue: HTTP transports to stand in for a CRM or to wrap one."""

from __future__ import annotations

import asyncio

import httpx


class LoseResponses(httpx.AsyncBaseTransport):
    """The CRM commits, then the answer is lost on the way back (`lose` times)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, lose: int) -> None:
        self.inner = inner
        self.lose = lose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and self.lose > 0:
            self.lose -= 1
            raise httpx.ReadTimeout("response lost", request=request)
        return response


class Answer(httpx.AsyncBaseTransport):
    """A CRM that answers every call with one status."""

    def __init__(self, status: int) -> None:
        self.status = status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.status, json={"error": "no"})


class Throttled(httpx.AsyncBaseTransport):
    """A CRM answering 429 with a `Retry-After`."""

    def __init__(self, retry_after: str) -> None:
        self.retry_after = retry_after

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"error": "slow down"}, headers={"Retry-After": self.retry_after}
        )


class Held(httpx.AsyncBaseTransport):
    """The CRM takes each request as it comes, but its answer waits until the test releases
    it (or for ever): an attempt under way."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.entered.set()
        await self.release.wait()
        return response


class NeverAnswers(httpx.AsyncBaseTransport):
    """A CRM that accepts the connection and never says anything."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")
