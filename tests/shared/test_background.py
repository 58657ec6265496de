"""Background loops look again at once only when more work may be waiting."""

import asyncio
import logging
from typing import Literal

import pytest

from shared.background import LoopGroup
from tests.helpers import eventually

BATCH = 10


class WatchedWakeup(asyncio.Event):
    """A wake-up event that tells when the loop has begun to wait for it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()

    async def wait(self) -> Literal[True]:
        self.waiting.set()
        await super().wait()
        return True

    async def parked(self) -> None:
        """Until the loop waits for a wake-up (or the interval) again."""
        async with asyncio.timeout(10):
            await self.waiting.wait()
        self.waiting.clear()


def run_steps(taken: list[int]) -> tuple[LoopGroup, WatchedWakeup, list[int]]:
    """A loop whose steps take `taken[i]` items each (0 after the list); which steps ran
    is in the returned list."""
    ran: list[int] = []
    wakeup = WatchedWakeup()
    loops = LoopGroup()

    async def step() -> int:
        ran.append(len(ran))
        return taken[len(ran) - 1] if len(ran) <= len(taken) else 0

    loops.start("test", step, wakeup=wakeup, interval=3600, batch=BATCH)
    return loops, wakeup, ran


async def test_a_step_that_took_less_than_a_batch_waits_for_a_wake_up():
    loops, wakeup, ran = run_steps([3, 2])
    try:
        await wakeup.parked()
        assert ran == [0]  # it saw everything that was due: no second look for nothing
        wakeup.set()  # new work was committed
        await wakeup.parked()
        assert ran == [0, 1]
    finally:
        await loops.stop()


async def test_a_step_that_took_a_whole_batch_runs_again_at_once():
    loops, wakeup, ran = run_steps([BATCH, BATCH, 4])
    try:
        await wakeup.parked()
        assert ran == [0, 1, 2]  # more may have been waiting after each full batch
    finally:
        await loops.stop()


async def test_a_loop_stops_even_when_woken_as_it_is_stopped():
    loops, wakeup, ran = run_steps([])
    await wakeup.parked()
    # New work is committed in the same instant the process shuts down.
    wakeup.set()
    async with asyncio.timeout(10):
        await loops.stop()
    assert ran == [0]


@pytest.mark.parametrize(
    ("failure", "level", "message", "traceback"),
    [
        (
            ConnectionRefusedError(111, "refused"),
            logging.WARNING,
            "loop.database_unavailable",
            False,
        ),
        (KeyError("bug"), logging.ERROR, "loop.failed", True),
    ],
)
async def test_a_failing_step_is_logged_and_tried_again(
    caplog, failure, level, message, traceback
):
    wakeup = WatchedWakeup()
    loops = LoopGroup()
    tries: list[int] = []

    async def step() -> int:
        tries.append(1)
        if len(tries) == 1:
            raise failure
        return 0

    loops.start("failing", step, wakeup=wakeup, interval=3600)
    try:
        await wakeup.parked()
        wakeup.set()
        await wakeup.parked()
    finally:
        await loops.stop()
    assert len(tries) == 2  # the loop lived on
    [record] = [r for r in caplog.records if r.name == "shared.background"]
    assert (record.levelno, record.getMessage()) == (level, message)
    assert (record.exc_info is not None) == traceback


async def test_draining_lets_the_step_under_way_finish_and_starts_no_other():
    loops = LoopGroup()
    wakeup = asyncio.Event()
    began, may_finish = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async def step() -> int:
        began.set()
        await may_finish.wait()
        finished.append(len(finished))
        return BATCH  # a whole batch: it would run again at once if not stopping

    loops.start("test", step, wakeup=wakeup, interval=3600, batch=BATCH)
    await began.wait()
    draining = asyncio.create_task(loops.drain(grace=30))

    async def drain_began() -> bool:
        return wakeup.is_set()  # drain wakes the loops, then waits for their steps

    await eventually(drain_began, what="the drain's start")
    assert not draining.done()  # waits for the step
    may_finish.set()
    async with asyncio.timeout(10):
        await draining
    assert finished == [0]


async def test_a_waiting_loop_ends_at_once_when_drained():
    loops, wakeup, ran = run_steps([1])
    await wakeup.parked()
    async with asyncio.timeout(10):
        await loops.drain(grace=3600)
    assert ran == [0]


async def test_a_step_longer_than_the_grace_is_cancelled(
    caplog: pytest.LogCaptureFixture,
):
    loops = LoopGroup()
    began = asyncio.Event()
    cancelled = asyncio.Event()

    async def step() -> int:
        began.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0

    loops.start("push", step, wakeup=asyncio.Event(), interval=3600)
    await began.wait()
    with caplog.at_level(logging.WARNING):
        await loops.drain(grace=0.01)
    assert cancelled.is_set()
    assert any(r.getMessage() == "loops.drain_timed_out" for r in caplog.records)


async def test_a_loop_that_crashes_is_named_and_one_that_returns_is_not():
    loops = LoopGroup()

    async def returns() -> None:
        return None

    async def crashes() -> None:
        raise RuntimeError("past the loop's own handling")

    loops.spawn("listen", returns())
    loops.spawn("relay", crashes())
    try:
        async with asyncio.timeout(10):
            assert await loops.crashed() == "relay"
        assert loops.stopped() == ["relay"]
    finally:
        await loops.stop()
