"""Background loops: do a step, then wait for a wake-up or the poll interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

from shared.db import database_unavailable

logger = logging.getLogger(__name__)

Step = Callable[[], Awaitable[int]]


async def run_loop(
    name: str,
    step: Step,
    *,
    wakeup: asyncio.Event,
    interval: float,
    batch: int | None = None,
) -> None:
    """Run `step` until cancelled; a failing step is logged and retried after the interval,
    so a database hiccup does not end the loop.

    A step returns how much work it took. One that took a full `batch` (or, without a
    batch, any work) runs again at once, as more may be waiting. One that took less saw
    everything that was due: it waits for a wake-up (work committed since it began sets
    one) or the interval (work that became due by the clock), instead of looking again
    for nothing, which on SQLite takes the write lock.
    """
    while True:
        wakeup.clear()
        try:
            done = await step()
        except Exception as exc:
            if database_unavailable(exc):
                # An outage, not a bug: one line per try, without the traceback.
                logger.warning(
                    "loop.database_unavailable",
                    extra={"loop": name, "error": type(exc).__name__},
                )
            else:
                logger.exception("loop.failed", extra={"loop": name})
            done = 0
        if done and (batch is None or done >= batch):
            continue
        # Not `wait_for`: on Python 3.11 it drops a cancellation that arrives as the
        # wake-up does, and the loop would then outlive its group's `stop`.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await wakeup.wait()


class LoopGroup:
    """The loops of one process, started together and cancelled together."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(
        self,
        name: str,
        step: Step,
        *,
        wakeup: asyncio.Event,
        interval: float,
        batch: int | None = None,
    ) -> None:
        self.spawn(
            name, run_loop(name, step, wakeup=wakeup, interval=interval, batch=batch)
        )

    def spawn(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(coroutine, name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


T = TypeVar("T")


async def for_each_concurrently(
    items: Iterable[T], action: Callable[[T], Awaitable[None]]
) -> None:
    """Run `action` on every item at once, so that a batch of slow deliveries takes about
    one timeout rather than one per item and stays inside the lease it was claimed under.
    An item that fails is logged; the others carry on."""

    async def run(item: T) -> None:
        try:
            await action(item)
        except Exception:
            logger.exception("batch.item_failed")

    await asyncio.gather(*(run(item) for item in items))
