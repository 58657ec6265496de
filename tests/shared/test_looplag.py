"""The event-loop lag monitor: how much later than asked a short sleep wakes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time

from prometheus_client import CollectorRegistry, generate_latest

from shared.looplag import OLDEST_EVERY, LoopLagMonitor, startup_objects_frozen


async def test_each_wake_up_records_how_late_it_was():
    # A clock the test sets: every sleep "took" 30 ms longer than the 10 ms asked.
    readings = iter([0.0, 0.040, 1.0, 1.040, 2.0, 2.040])
    registry = CollectorRegistry()
    monitor = LoopLagMonitor(
        registry, name="test_lag_seconds", interval=0.010, clock=lambda: next(readings)
    )
    task = asyncio.create_task(monitor.run())
    try:
        for _ in range(2):
            monitor.sampled.clear()
            await asyncio.wait_for(monitor.sampled.wait(), timeout=10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    text = generate_latest(registry).decode()
    assert "test_lag_seconds_count 2.0" in text
    assert 'test_lag_seconds_bucket{le="0.02"} 0.0' in text
    assert 'test_lag_seconds_bucket{le="0.05"} 2.0' in text
    assert "# HELP test_lag_seconds How much later than due" in text


async def test_a_loop_blocked_longer_than_the_interval_shows_in_the_high_buckets():
    registry = CollectorRegistry()
    monitor = LoopLagMonitor(registry, name="blocked_lag_seconds", interval=0.001)
    task = asyncio.create_task(monitor.run())
    try:
        # Once the monitor has taken a sample it is asleep again: hold the loop 60 ms.
        await asyncio.wait_for(monitor.sampled.wait(), timeout=10)
        monitor.sampled.clear()
        end = time.perf_counter() + 0.06
        while time.perf_counter() < end:
            pass
        monitor.sampled.clear()
        await asyncio.wait_for(monitor.sampled.wait(), timeout=10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    lag = registry.get_sample_value("blocked_lag_seconds_sum")
    assert lag is not None
    assert lag >= 0.05


def test_startup_objects_are_frozen_for_the_block_only():
    before = gc.get_freeze_count()
    thresholds = gc.get_threshold()
    startup: list[list[int]] = [[] for _ in range(10)]  # lists are tracked
    with startup_objects_frozen():
        assert gc.get_freeze_count() >= before + len(startup)
        # The oldest generation, holding only what came after startup, is passed over
        # less often.
        assert gc.get_threshold() == (*thresholds[:2], OLDEST_EVERY)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
