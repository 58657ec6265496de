"""B8: one client floods the report endpoint; another client's reads must not suffer.

Intake runs with its default limits on residents' writes. A steady reader lists reports
alone, then again while one client sends reports as fast as 64 connections allow (nearly
all refused with 429 once its limit is used up). The reader's 99th percentile during the
flood is compared to its own without it, measured in the same run.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from bench.harness import Figure, Load, Options, databases, intake_alone, wrk

READERS = 8
READ_PAUSE_MS = 25
FLOOD_CONNECTIONS = 64
# The defaults of intake's settings: the limits a city runs with.
DEFAULT_LIMITS = {
    f"INTAKE_THROTTLE_{name}": value
    for name, value in (
        ("REPORTS_PER_CLIENT", "60"),
        ("REPORTS_PER_ACCOUNT", "20"),
        ("PHOTOS_PER_CLIENT", "120"),
        ("WRITES_PER_CLIENT", "120"),
        ("WRITES_PER_ACCOUNT", "60"),
    )
}


def _read(url: str, seconds: float) -> Load:
    return wrk(
        url,
        "get_paced.lua",
        seconds=seconds,
        connections=READERS,
        env={
            "BENCH_PATH": "/v1/reports?limit=20",
            "BENCH_PAUSE_MS": str(READ_PAUSE_MS),
        },
    )


def _summary(load: Load) -> dict[str, Any]:
    return {
        "per_second": round(load.per_second, 1),
        "p50_ms": round(load.p50_ms, 1),
        "p99_ms": round(load.p99_ms, 1),
        "errors": load.errors,
    }


async def b8(options: Options) -> list[Figure]:
    seconds = 2.0 if options.quick else 15.0
    async with databases(options, "b8") as dbs:
        with intake_alone(dbs, options.work_dir, env=DEFAULT_LIMITS) as (url, _):
            _read(url, 1)  # warm up
            calm = _read(url, seconds)
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                flood = pool.submit(
                    wrk,
                    url,
                    "reports.lua",
                    seconds=seconds + 2,
                    connections=FLOOD_CONNECTIONS,
                    env={"BENCH_ONE_CLIENT": "1"},  # one client's flood
                )
                stormy = _read(url, seconds)
                flooded = flood.result()
    ratio = stormy.p99_ms / calm.p99_ms
    bars = not options.quick
    return [
        Figure(
            "B8",
            f"another client's reads (p99) while one client floods POST /v1/reports "
            f"({FLOOD_CONNECTIONS} connections, default limits)",
            stormy.p99_ms,
            "ms",
            "≤ 2× without the flood",
            baseline=calm.p99_ms,
            ratio=ratio,
            passed=(ratio <= 2 and stormy.errors == 0) if bars else None,
            details={
                "reader_alone": _summary(calm),
                "reader_during_flood": _summary(stormy),
                "flood": {
                    "per_second": round(flooded.per_second, 1),
                    # wrk counts every answer but 2xx/3xx: here the 429s.
                    "refused_or_failed": flooded.errors,
                    "accepted": flooded.requests - flooded.errors,
                },
            },
        )
    ]
