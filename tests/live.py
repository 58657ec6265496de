"""An ASGI app served by uvicorn on a loopback port, for what only a real server does
(dropping a connection mid-answer, hanging past a client's timeout)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp


class _Server(uvicorn.Server):
    """uvicorn's server, which stops as soon as it is told (`stop`) rather than at its next
    look, a tenth of a second later: the tests start and stop hundreds of them."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stopping = asyncio.Event()

    async def main_loop(self) -> None:
        ticks = 0
        while not await self.on_tick(ticks):
            ticks += 10  # a second on: `on_tick` writes the `Date` header anew
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=1)

    def stop(self) -> None:
        self.should_exit = True
        self._stopping.set()


@asynccontextmanager
async def live(app: ASGIApp) -> AsyncIterator[str]:
    """The app's base URL while it is served (its lifespan runs)."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    server = _Server(
        uvicorn.Config(app, log_level="critical", timeout_graceful_shutdown=1)
    )
    # Listening before the server starts: early connections wait in the backlog.
    task = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.stop()
        await task
        listening.close()
