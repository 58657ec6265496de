"""Photos decoded in a few worker processes, so the API process never holds their pixels.

A 40-megapixel photo is some 120 MB of pixels for a second. Decoded in the API process,
that memory stays in its heap afterwards, and the decoding threads compete with the event
loop for the GIL. In workers, the API process only hands over the file's bytes and gets
the JPEGs back; its event loop stays free and its memory flat. Workers are started on
demand (a `spawn`, so they import Pillow, numpy and, at their first photo to blur,
onnxruntime and its model, and nothing of the web stack: a few tenths of a second) and all
stopped after `idle_seconds` without work, which gives their memory back to the system.
They run at a lower priority than the API process, so that under load the event loop gets
a core first.

A worker that dies (a decoder crash, the kernel's OOM killer, or its own alarm after
`timeout` seconds stuck on one photo) takes down the other photos being decoded at that
moment. Each of them is decoded again, alone in a fresh process: one that kills that one
too is refused as damaged; the others go through. No request waits forever and none gets
a 500 for it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from intake_service.photos import imaging
from intake_service.photos.imaging import ProcessedPhoto, Refusal
from shared import memory

logger = logging.getLogger(__name__)

Render = Callable[..., ProcessedPhoto]
"""`imaging.render` or a function with its signature (keyword options after the bytes)."""


WORKER_NICENESS = 10
"""Decoding yields the CPU to the API process (and the database): requests are answered
first, and a photo takes longer only while the machine has no core to spare."""


def _start_worker() -> None:
    os.nice(WORKER_NICENESS)
    # One thread decodes here: one arena, and large blocks mapped apart.
    memory.limit_heap(arenas=1)


def _work(
    render: Render, data: bytes, options: dict[str, Any], timeout: int
) -> ProcessedPhoto:
    # SIGALRM's default action ends the process, wherever it is stuck (inside a decoder
    # too, where no Python handler would run); the pool sees a dead worker.
    signal.alarm(timeout)
    try:
        return render(data, **options)
    finally:
        signal.alarm(0)
        memory.trim()


class PhotoPool:
    """`render()` runs `imaging.render` in one of at most `workers` processes."""

    def __init__(
        self,
        workers: int,
        *,
        idle_seconds: float = 30.0,
        timeout: int = 60,
        render: Render = imaging.render,
    ) -> None:
        self.workers = workers
        self.idle_seconds = idle_seconds
        self.timeout = timeout
        self._render = render
        self._context = multiprocessing.get_context("spawn")
        self._executor: ProcessPoolExecutor | None = None
        self._retire: asyncio.TimerHandle | None = None
        self.busy = 0
        """Photos being decoded now."""
        self.deaths = 0
        """Workers found dead since the start."""

    @property
    def running(self) -> bool:
        """Whether worker processes may be alive (started and not yet retired)."""
        return self._executor is not None

    async def render(self, data: bytes, **options: Any) -> ProcessedPhoto:
        """What `imaging.render(data, **options)` returns or raises (a `Refusal`)."""
        self.busy += 1
        if self._retire is not None:
            self._retire.cancel()
            self._retire = None
        try:
            executor = self._executor or self._start()
            try:
                return await self._run(executor, data, options)
            except BrokenProcessPool:
                self._died(executor)
            # Perhaps another photo took the worker down: this one again, on its own.
            single = self._new_executor(1)
            try:
                return await self._run(single, data, options)
            except BrokenProcessPool:
                self.deaths += 1
                logger.warning("photos.worker_died_on_photo")
                raise Refusal(Refusal.DAMAGED) from None
            finally:
                single.shutdown(wait=False)
        finally:
            self.busy -= 1
            if self.busy == 0 and self._executor is not None:
                self._retire = asyncio.get_running_loop().call_later(
                    self.idle_seconds, self._stop_idle
                )

    async def close(self) -> None:
        """Stop the workers (those decoding finish first)."""
        if self._retire is not None:
            self._retire.cancel()
            self._retire = None
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    def _start(self) -> ProcessPoolExecutor:
        self._executor = self._new_executor(self.workers)
        return self._executor

    def _new_executor(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            workers, mp_context=self._context, initializer=_start_worker
        )

    async def _run(
        self, executor: ProcessPoolExecutor, data: bytes, options: dict[str, Any]
    ) -> ProcessedPhoto:
        future: Future[ProcessedPhoto] = executor.submit(
            _work, self._render, data, options, self.timeout
        )
        return await asyncio.wrap_future(future)

    def _died(self, executor: ProcessPoolExecutor) -> None:
        """A broken pool is of no more use: the next photo starts a new one."""
        if self._executor is executor:
            self.deaths += 1
            logger.warning("photos.worker_died")
            self._executor = None
            executor.shutdown(wait=False)

    def _stop_idle(self) -> None:
        self._retire = None
        if self.busy == 0 and self._executor is not None:
            executor, self._executor = self._executor, None
            # The workers exit once they read the stop; nothing waits for them.
            executor.shutdown(wait=False)
