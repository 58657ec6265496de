"""B1 and B1h: anonymous JSON reports under 64 connections, against the minimal baseline."""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
import uuid
from typing import Any

from sqlalchemy import insert

from bench.harness import Figure, Load, Options, baseline, databases, intake_alone, wrk
from intake_service.reports.models import Report
from shared.db import make_engine

CONNECTIONS = 64
HOTSPOT = (51.1097, 17.0326)  # the market square
HOTSPOT_REPORTS = 20_000
HOTSPOT_RADIUS_M = 250.0


def _rounds(options: Options) -> tuple[int, float]:
    """How many alternating rounds of how many seconds."""
    return (1, 2.0) if options.quick else (3, 15.0)


def _summary(loads: list[Load]) -> dict[str, Any]:
    return {
        "per_second": round(statistics.mean(load.per_second for load in loads), 1),
        "p50_ms": round(statistics.mean(load.p50_ms for load in loads), 1),
        "p99_ms": round(max(load.p99_ms for load in loads), 1),
        "errors": sum(load.errors for load in loads),
        "rounds": [round(load.per_second, 1) for load in loads],
    }


async def _seed_hotspot(url: str, count: int) -> None:
    """`count` open potholes filed in the last days, spread over a disc around the hotspot."""
    lat0, lon0 = HOTSPOT
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(42)
    rows = []
    for i in range(count):
        # Uniform over the disc: the radius grows with the square root.
        r = HOTSPOT_RADIUS_M * math.sqrt(rng.random())
        angle = rng.random() * 2 * math.pi
        lat = lat0 + r * math.cos(angle) / 111_195
        lon = lon0 + r * math.sin(angle) / (111_195 * math.cos(math.radians(lat0)))
        created = now - dt.timedelta(seconds=rng.uniform(60, 20 * 86400))
        rows.append(
            {
                "id": uuid.uuid4(),
                "number": f"SEED-{i:06d}",
                "category_code": "pothole",
                "lat": lat,
                "lon": lon,
                "description": "Seeded pothole",
                "attributes": {},
                "status": "submitted",
                "status_sequence": 1,
                "created_at": created,
                "updated_at": created,
                "expected_resolution_at": created + dt.timedelta(days=7),
                "supporters_count": 0,
                "location_source": "device",
                "show_name": False,
                "share_contact": False,
            }
        )
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            for start in range(0, len(rows), 2000):
                await connection.execute(insert(Report), rows[start : start + 2000])
    finally:
        await engine.dispose()


async def b1(options: Options) -> list[Figure]:
    rounds, seconds = _rounds(options)
    async with databases(options, "b1") as dbs:
        with (
            baseline(dbs, options.work_dir) as (base_url, _),
            intake_alone(dbs, options.work_dir) as (intake_url, _),
        ):
            # Warm both up (connection pools, caches), then alternate.
            wrk(base_url, "reports.lua", seconds=1, connections=CONNECTIONS)
            wrk(intake_url, "reports.lua", seconds=1, connections=CONNECTIONS)
            base_loads, intake_loads = [], []
            for _ in range(rounds):
                base_loads.append(
                    wrk(
                        base_url,
                        "reports.lua",
                        seconds=seconds,
                        connections=CONNECTIONS,
                    )
                )
                intake_loads.append(
                    wrk(
                        intake_url,
                        "reports.lua",
                        seconds=seconds,
                        connections=CONNECTIONS,
                    )
                )
            await _seed_hotspot(dbs.intake, 200 if options.quick else HOTSPOT_REPORTS)
            point = {"BENCH_POINT": f"{HOTSPOT[0]},{HOTSPOT[1]}"}
            hot_loads = [
                wrk(
                    intake_url,
                    "reports.lua",
                    seconds=seconds,
                    connections=CONNECTIONS,
                    env=point,
                )
                for _ in range(rounds)
            ]
    base, ours, hot = _summary(base_loads), _summary(intake_loads), _summary(hot_loads)
    ratio = ours["per_second"] / base["per_second"]
    p99_ratio = ours["p99_ms"] / base["p99_ms"]
    hot_ratio = hot["per_second"] / ours["per_second"]
    bars = not options.quick
    return [
        Figure(
            "B1",
            "anonymous JSON reports, random points, 64 connections",
            ours["per_second"],
            "reports/s",
            "≥ 0.5× baseline",
            baseline=base["per_second"],
            ratio=ratio,
            passed=(ratio >= 0.5 and ours["errors"] == 0) if bars else None,
            details={"intake": ours, "baseline": base},
        ),
        Figure(
            "B1 p99",
            "the same, 99th percentile answer time",
            ours["p99_ms"],
            "ms",
            "≤ 3× baseline",
            baseline=base["p99_ms"],
            ratio=p99_ratio,
            passed=p99_ratio <= 3 if bars else None,
        ),
        Figure(
            "B1h",
            f"all at one point, {HOTSPOT_REPORTS if bars else 200:,} open reports within 250 m",
            hot["per_second"],
            "reports/s",
            "≥ 0.8× B1",
            baseline=ours["per_second"],
            ratio=hot_ratio,
            passed=(hot_ratio >= 0.8 and hot["errors"] == 0) if bars else None,
            details={"intake": hot},
        ),
    ]
