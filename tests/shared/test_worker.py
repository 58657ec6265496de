"""A worker process (`python -m <service> worker`): SIGTERM lets its steps finish, and a loop
that crashes ends the process with 1 for its supervisor to restart it."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from crm_adapter.config import Settings as AdapterSettings
from shared.runtime import Runtime, run_worker
from tests.helpers import eventually


async def test_sigterm_lets_the_step_under_way_finish_then_ends_with_0(
    adapter_settings: AdapterSettings, caplog: pytest.LogCaptureFixture
) -> None:
    began, may_finish, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def step() -> int:
        began.set()
        await may_finish.wait()  # the step's own work, e.g. a CRM call
        finished.set()
        return 0

    def start(runtime: Runtime) -> None:
        runtime.loops.start("push", step, wakeup=asyncio.Event(), interval=3600)

    async def stopping() -> bool:
        return "worker.stopping" in [r.getMessage() for r in caplog.records]

    with caplog.at_level(logging.INFO):
        worker = asyncio.create_task(run_worker(adapter_settings, start))
        async with asyncio.timeout(10):
            await began.wait()
        os.kill(os.getpid(), signal.SIGTERM)
        await eventually(stopping, what="the worker's stop")
        assert not worker.done()  # the step under way holds it
        may_finish.set()
        async with asyncio.timeout(10):
            assert await worker == 0
    assert finished.is_set()


async def test_a_crashed_loop_ends_the_worker_with_1(
    adapter_settings: AdapterSettings, caplog: pytest.LogCaptureFixture
) -> None:
    async def crashes() -> None:
        raise RuntimeError("past the loop's own handling")

    def start(runtime: Runtime) -> None:
        runtime.loops.spawn("relay", crashes())

    with caplog.at_level(logging.ERROR):
        async with asyncio.timeout(10):
            assert await run_worker(adapter_settings, start) == 1
    crashed = [r for r in caplog.records if r.getMessage() == "worker.loop_crashed"]
    assert [r.__dict__["loop"] for r in crashed] == ["relay"]
