"""An ASGI app served by uvicorn on a loopback port, for what only a real server does
(dropping a connection mid-answer, hanging past a client's timeout)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp


@asynccontextmanager
async def live(app: ASGIApp) -> AsyncIterator[str]:
    """The app's base URL while it is served (its lifespan runs)."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="critical", timeout_graceful_shutdown=1)
    )
    # Listening before the server starts: early connections wait in the backlog.
    task = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        listening.close()
