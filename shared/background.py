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
    stopping: asyncio.Event | None = None,
) -> None:
    """Run `step` until cancelled; a failing step is logged and retried after the interval,
    so a database hiccup does not end the loop.

    A step returns how much work it took. One that took a full `batch` (or, without a
    batch, any work) runs again at once, as more may be waiting. One that took less saw
    everything that was due: it waits for a wake-up (work committed since it began sets
    one) or the interval (work that became due by the clock), instead of looking again
    for nothing, which on SQLite takes the write lock.

    Once `stopping` is set (and the wake-up with it), the loop ends after the step under
    way, instead of being cancelled in the middle of it.
    """
    while stopping is None or not stopping.is_set():
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
        if stopping is not None and stopping.is_set():
            return
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
        self._wakeups: list[asyncio.Event] = []
        self._stepping: list[asyncio.Task[None]] = []
        """The loops of `start`, which end by themselves between steps once stopping."""
        self._stopping = asyncio.Event()

    def start(
        self,
        name: str,
        step: Step,
        *,
        wakeup: asyncio.Event,
        interval: float,
        batch: int | None = None,
    ) -> None:
        self._wakeups.append(wakeup)
        self.spawn(
            name,
            run_loop(
                name,
                step,
                wakeup=wakeup,
                interval=interval,
                batch=batch,
                stopping=self._stopping,
            ),
        )
        self._stepping.append(self._tasks[-1])

    def spawn(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(coroutine, name=name))

    def stopped(self) -> list[str]:
        """The loops that ended by an exception, or were cancelled, while the group still
        runs: each crashed past its own error handling. (A task may end by returning, as
        `wakeup.listen` does where there is nothing to listen to.)"""
        return [
            task.get_name()
            for task in self._tasks
            if task.done() and (task.cancelled() or task.exception() is not None)
        ]

    async def crashed(self) -> str:
        """Wait until a loop ends by an exception; its name."""
        while True:
            running = [task for task in self._tasks if not task.done()]
            if stopped := self.stopped():
                return stopped[0]
            if not running:
                await asyncio.Event().wait()  # nothing left that could crash
            await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)

    async def drain(self, grace: float) -> None:
        """Stop the loops after the steps under way, waiting up to `grace` seconds for
        them; then cancel what still runs (the rows a cancelled step had claimed come free
        when its lease ends)."""
        self._stopping.set()
        for wakeup in self._wakeups:
            wakeup.set()
        if self._stepping and grace > 0:
            _, pending = await asyncio.wait(self._stepping, timeout=grace)
            if pending:
                logger.warning(
                    "loops.drain_timed_out",
                    extra={"loops": sorted(task.get_name() for task in pending)},
                )
        await self.stop()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._stepping.clear()


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
