"""What a service process holds while it runs: engine, sessions, HTTP client, loops."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
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

logger = logging.getLogger(__name__)

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
        # The steps under way finish (an API process's loops too, as uvicorn shuts down).
        await runtime.loops.drain(settings.shutdown_grace_seconds)
        for close in runtime.closing:
            await close()
        await runtime.client.aclose()
        await engine.dispose()


async def run_worker(settings: ServiceSettings, start_loops: StartLoops) -> int:
    """The loops alone, for a worker process beside API processes that run none.

    Runs until SIGTERM or SIGINT, then lets the steps under way finish (up to
    `shutdown_grace_seconds`) and returns 0. A loop that crashes past its own error
    handling ends the process with 1, for its supervisor to start it again: a worker
    with a dead loop would otherwise look alive and do nothing.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    try:
        async with open_runtime(settings, start_loops) as runtime:
            stopping = asyncio.create_task(stop.wait())
            crash = asyncio.create_task(runtime.loops.crashed())
            await asyncio.wait({stopping, crash}, return_when=asyncio.FIRST_COMPLETED)
            for task in (stopping, crash):
                task.cancel()
            if not stop.is_set():
                logger.error("worker.loop_crashed", extra={"loop": crash.result()})
                return 1
            logger.info("worker.stopping")
        return 0
    finally:
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signal_number)
