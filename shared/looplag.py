"""How late the event loop runs what is due, as a Prometheus histogram.

A task sleeps a short interval again and again and records how much later than asked it
woke. Whatever holds the loop (a blocking call, a long computation, the GIL held by another
thread) delays every request handled meanwhile by as much: this is that delay, measured
without touching the requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Upper bounds (seconds): fine below 20 ms, where a healthy loop stays."""

INTERVAL = 0.05
"""Seconds between wake-ups: 20 samples a second cost nothing measurable."""


class LoopLagMonitor:
    """`run()` measures the running loop's lag into `histogram` until cancelled."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        name: str = "mam_event_loop_lag_seconds",
        interval: float = INTERVAL,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self.histogram = Histogram(
            name,
            "How much later than due the event loop woke a task that slept "
            f"{interval * 1000:g} ms (sampled continuously): the delay anything "
            "blocking the loop adds to every request.",
            buckets=BUCKETS,
            registry=registry,
        )
        self.sampled = asyncio.Event()
        """Set after each sample (tests wait on it)."""

    async def run(self) -> None:
        clock = self._clock or asyncio.get_running_loop().time
        while True:
            start = clock()
            await asyncio.sleep(self.interval)
            self.histogram.observe(max(clock() - start - self.interval, 0.0))
            self.sampled.set()


OLDEST_EVERY = 100
"""Collections of the middle generation before one of the oldest is considered, while the
startup objects are frozen (Python's default is 10)."""


@contextlib.contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """What the process made to start (modules, routes, models, some 150,000 objects) out of
    the garbage collector's sight until the block ends, and the oldest generation passed
    over less often meanwhile.

    A pass over the oldest generation walks every object the collector tracks while the
    loop waits: some 80 ms over a web service's startup objects, which live as long as the
    process anyway. Frozen, they are skipped. What is left there (caches, pools, prepared
    statements: some 15,000 objects) still takes 4 ms a pass, and with so few objects
    Python's rule (a pass once they have grown by a fourth) asked for one every few
    seconds under load: a tenth as often keeps those pauses out of most answers' times.
    Garbage made before the freeze is collected once the block ends.
    """
    young, middle, oldest = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young, middle, OLDEST_EVERY)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, oldest)
        gc.unfreeze()
