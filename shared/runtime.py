"""What a service process holds while it runs: engine, sessions, HTTP client, loops."""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.background import LoopGroup
from shared.db import make_engine, make_sessionmaker
from shared.settings import ServiceSettings
from shared.wakeup import INFO_KEY, Wakeups, listen

# Connect fast, but give a slow peer time to answer (RELIABILITY §4.1: 5 s / 30 s).
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The certificate authorities, loaded once per process for every HTTP client it makes
    (loading them takes tens of milliseconds of CPU each time)."""
    return httpx.create_ssl_context()


@dataclass
class Runtime:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient
    wakeups: Wakeups
    loops: LoopGroup = field(default_factory=LoopGroup)
    closing: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Closed after the loops stop (clients the loops made for themselves)."""


StartLoops = Callable[[Runtime], None]


@asynccontextmanager
async def open_runtime(
    settings: ServiceSettings, start_loops: StartLoops | None
) -> AsyncIterator[Runtime]:
    engine = make_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_overflow,
    )
    wakeups = Wakeups()
    runtime = Runtime(
        engine=engine,
        sessionmaker=make_sessionmaker(engine, info={INFO_KEY: wakeups}),
        client=httpx.AsyncClient(timeout=HTTP_TIMEOUT, verify=tls_context()),
        wakeups=wakeups,
    )
    try:
        if start_loops is not None:
            start_loops(runtime)
        # Loops here, and open notification streams, hear of other processes' commits.
        runtime.loops.spawn("wakeup.listen", listen(engine, wakeups))
        yield runtime
    finally:
        await runtime.loops.stop()
        for close in runtime.closing:
            await close()
        await runtime.client.aclose()
        await engine.dispose()


async def run_worker(settings: ServiceSettings, start_loops: StartLoops) -> None:
    """The loops alone, for a worker process beside API processes that run none."""
    async with open_runtime(settings, start_loops):
        await asyncio.Event().wait()
