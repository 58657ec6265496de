"""Background loops look again at once only when more work may be waiting."""

import asyncio

from shared.background import LoopGroup

BATCH = 10


async def run_steps(taken: list[int]) -> tuple[LoopGroup, asyncio.Event, list[int]]:
    """A loop whose steps take `taken[i]` items each (0 after the list); which steps ran
    is in the returned list, which the test reads at its own pace."""
    ran: list[int] = []
    wakeup = asyncio.Event()
    loops = LoopGroup()

    async def step() -> int:
        ran.append(len(ran))
        return taken[len(ran) - 1] if len(ran) <= len(taken) else 0

    loops.start("test", step, wakeup=wakeup, interval=3600, batch=BATCH)
    return loops, wakeup, ran


async def settle() -> None:
    """Let the loop run until it waits (its steps never wait themselves)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_step_that_took_less_than_a_batch_waits_for_a_wake_up():
    loops, wakeup, ran = await run_steps([3, 2])
    try:
        await settle()
        assert ran == [0]  # it saw everything that was due: no second look for nothing
        wakeup.set()  # new work was committed
        await settle()
        assert ran == [0, 1]
    finally:
        await loops.stop()


async def test_a_step_that_took_a_whole_batch_runs_again_at_once():
    loops, _, ran = await run_steps([BATCH, BATCH, 4])
    try:
        await settle()
        assert ran == [0, 1, 2]  # more may have been waiting after each full batch
    finally:
        await loops.stop()
