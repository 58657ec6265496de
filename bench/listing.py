"""B6: `nearby` and map-box listing with a million reports on PostgreSQL.

B6 starts intake alone on a fresh PostgreSQL database (whatever `--database` says: the
figure is about PostgreSQL's indexes at that size), lets it migrate, then copies a
million reports into `reports` with asyncpg's COPY: spread evenly over the Wrocław area,
of every default category, filed over the last two years in that order (as a real table
fills), about a third of them still open. `VACUUM (ANALYZE)` then leaves the table as
autovacuum would, so that it does not start in the middle of a round.

wrk (one thread, 8 connections) then asks `GET /v1/reports/nearby` at random points
with random categories, and `GET /v1/reports` for 1 km × 1 km boxes at random places,
50 a page, after a short warm-up elsewhere. Each kind gets two 15-second rounds:

- the judged one at a steady 50 requests/s (`pace.lua`; a busy hour of a city's map,
  far above what residents open), whose answer times are what one request costs when
  it does not wait behind others;
- one as fast as the answers come (closed loop), in the details: how many requests a
  second one API process serves, and what an answer waits when 8 are always queued
  (about 8 times intake's CPU time per answer, which is noted too).

A few answers are read first to show how much each kind of request finds.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx

from bench.harness import (
    Figure,
    Load,
    Options,
    _asyncpg_dsn,
    databases,
    intake_alone,
    wrk,
)
from intake_service.categories.service import DEFAULTS_FILE

REPORTS = 1_000_000
QUICK_REPORTS = 20_000
AREA = (51.04, 51.17, 16.90, 17.15)  # min_lat, max_lat, min_lon, max_lon
BOX_M = 1000.0
LIMIT = 50
CONNECTIONS = 8
RATE = 50.0
"""Requests per second of the judged round."""
P99_BAR_MS = 10.0
SEED = 6
YEARS = 2
M_PER_DEGREE = 111_195.0
STATUSES = {
    # About a third open; closed ones resolved far more often than rejected.
    "received": 2,
    "submitted": 10,
    "in_progress": 18,
    "reopened": 3,
    "resolved": 55,
    "rejected": 12,
}
OPEN = {"received", "submitted", "in_progress", "reopened"}
DESCRIPTIONS = (
    "Dziura w jezdni przy przejściu dla pieszych, coraz głębsza.",
    "Uszkodzone płyty chodnikowe, łatwo się potknąć.",
    "Nie działa od kilku dni, wieczorem jest zupełnie ciemno.",
    "Przepełniony od weekendu, śmieci leżą obok.",
    "Znak przewrócony na trawnik po wichurze.",
    "Woda stoi na całej szerokości ulicy po deszczu.",
)
COLUMNS = (
    "id",
    "number",
    "category_code",
    "lat",
    "lon",
    "description",
    "status",
    "status_sequence",
    "closed_sequence",
    "unit_code",
    "crm_case_id",
    "created_at",
    "updated_at",
    "expected_resolution_at",
)


def _sizes(options: Options) -> tuple[int, float]:
    """How many reports, and how many seconds each round lasts."""
    return (QUICK_REPORTS, 2.0) if options.quick else (REPORTS, 15.0)


def _categories() -> dict[str, str]:
    """The default categories' codes and their units."""
    defaults = json.loads(DEFAULTS_FILE.read_text())
    return {c["code"]: c["unit"] for c in defaults["categories"]}


def _rows(count: int, now: dt.datetime) -> Iterator[tuple[Any, ...]]:
    """`count` reports in the order they were filed, the oldest first (the same ones for
    the same `count`, apart from `now`)."""
    rng = random.Random(SEED)
    units = _categories()
    codes = list(units)
    statuses, weights = list(STATUSES), list(STATUSES.values())
    span = YEARS * 365 * 86400
    ages = sorted((rng.uniform(60, span) for _ in range(count)), reverse=True)
    min_lat, max_lat, min_lon, max_lon = AREA
    for i, age in enumerate(ages, start=1):
        code = rng.choice(codes)
        status = rng.choices(statuses, weights)[0]
        created = now - dt.timedelta(seconds=age)
        # All but `received` ones are at the CRM, their last change within 30 days.
        sequence = 0 if status == "received" else rng.randint(1, 4)
        changed = created + dt.timedelta(seconds=rng.uniform(0, min(age, 30 * 86400)))
        sent = status != "received"
        yield (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            f"SEED-{i:07d}",
            code,
            rng.uniform(min_lat, max_lat),
            rng.uniform(min_lon, max_lon),
            rng.choice(DESCRIPTIONS),
            status,
            sequence,
            None if status in OPEN else sequence,
            units[code] if sent else None,
            f"CASE-{i:07d}" if sent else None,
            created,
            changed if sent else created,
            created + dt.timedelta(days=7),
        )


async def _seed(url: str, count: int) -> float:
    """Copy `count` reports into intake's migrated database; the seconds it took."""
    started = time.monotonic()
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.copy_records_to_table(
            "reports", records=_rows(count, dt.datetime.now(dt.UTC)), columns=COLUMNS
        )
        await connection.execute("VACUUM (ANALYZE) reports")
    finally:
        await connection.close()
    return time.monotonic() - started


def _box_degrees() -> tuple[float, float]:
    """A box of BOX_M × BOX_M in the middle of the area, in degrees of latitude and longitude."""
    middle = (AREA[0] + AREA[1]) / 2
    dlat = BOX_M / M_PER_DEGREE
    return dlat, dlat / math.cos(math.radians(middle))


def _samples(url: str, codes: list[str], dlat: float, dlon: float) -> dict[str, float]:
    """How much a few requests of each kind find, at random places as the load asks."""
    rng = random.Random(SEED + 1)
    min_lat, max_lat, min_lon, max_lon = AREA
    nearby, boxed = [], []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(20):
            answer = client.get(
                "/v1/reports/nearby",
                params={
                    "lat": rng.uniform(min_lat, max_lat),
                    "lon": rng.uniform(min_lon, max_lon),
                    "category": rng.choice(codes),
                },
            )
            answer.raise_for_status()
            nearby.append(len(answer.json()))
            lat = rng.uniform(min_lat, max_lat - dlat)
            lon = rng.uniform(min_lon, max_lon - dlon)
            answer = client.get(
                "/v1/reports",
                params={
                    "bbox": f"{lon:.6f},{lat:.6f},{lon + dlon:.6f},{lat + dlat:.6f}",
                    "limit": LIMIT,
                },
            )
            answer.raise_for_status()
            boxed.append(len(answer.json()["items"]))
    return {
        "nearby_found_mean": statistics.mean(nearby),
        "bbox_items_mean": statistics.mean(boxed),
    }


def _cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _figures(load: Load) -> dict[str, Any]:
    return {
        "p50_ms": round(load.p50_ms, 2),
        "p99_ms": round(load.p99_ms, 2),
        "max_ms": round(load.max_ms, 1),
        "per_second": round(load.per_second, 1),
        "requests": load.requests,
        "errors": load.errors,
    }


def _details(paced: Load, closed: Load, cpu_seconds: float) -> dict[str, Any]:
    return _figures(paced) | {
        "closed_loop": _figures(closed)
        | {
            # Intake's own CPU per answer: what the queue of CONNECTIONS waits behind.
            "intake_cpu_ms_per_request": round(
                cpu_seconds * 1000 / max(closed.requests, 1), 2
            ),
        }
    }


async def b6(options: Options) -> list[Figure]:
    count, seconds = _sizes(options)
    on_postgres = Options(options.quick, "postgresql", options.work_dir)
    codes = list(_categories())
    dlat, dlon = _box_degrees()
    env = {
        "BENCH_AREA": ",".join(str(edge) for edge in AREA),
        "BENCH_CATEGORIES": ",".join(codes),
        "BENCH_BOX": f"{dlat:.6f},{dlon:.6f}",
        "BENCH_LIMIT": str(LIMIT),
        "BENCH_SEED": str(SEED),
    }
    loads: dict[str, Load] = {}
    closed: dict[str, Load] = {}
    cpu: dict[str, float] = {}
    async with databases(on_postgres, "b6") as dbs:
        with intake_alone(dbs, options.work_dir) as (url, pid):
            seed_seconds = await _seed(dbs.intake, count)
            found = _samples(url, codes, dlat, dlon)
            for mode in ("nearby", "bbox"):
                mode_env = env | {"BENCH_MODE": mode}
                # Warm up (caches, pools) at other places than the round goes to.
                wrk(
                    url,
                    "listing.lua",
                    seconds=1,
                    connections=CONNECTIONS,
                    env=mode_env | {"BENCH_SEED": str(SEED + 1)},
                )
                before = _cpu_seconds(pid)
                closed[mode] = wrk(
                    url,
                    "listing.lua",
                    seconds=seconds,
                    connections=CONNECTIONS,
                    env=mode_env,
                )
                cpu[mode] = _cpu_seconds(pid) - before
                loads[mode] = wrk(
                    url,
                    "listing.lua",
                    seconds=seconds,
                    connections=CONNECTIONS,
                    env=mode_env
                    | {"BENCH_RATE": str(RATE), "BENCH_SEED": str(SEED + 2)},
                )
    common = {
        "reports": count,
        "seed_seconds": round(seed_seconds, 1),
        "connections": CONNECTIONS,
        "rate": RATE,
        "seconds": seconds,
    }
    bars = not options.quick
    nearby, box = loads["nearby"], loads["bbox"]
    return [
        Figure(
            "B6 nearby",
            f"GET /v1/reports/nearby, random point and category, {count:,} reports, "
            f"{RATE:g} requests/s (always PostgreSQL)",
            nearby.p99_ms,
            "ms",
            f"< {P99_BAR_MS:g} ms",
            passed=(nearby.p99_ms < P99_BAR_MS and nearby.errors == 0)
            if bars
            else None,
            details=_details(nearby, closed["nearby"], cpu["nearby"])
            | common
            | {"found_mean": found["nearby_found_mean"]},
        ),
        Figure(
            "B6 bbox",
            f"GET /v1/reports, random 1 km × 1 km box, {LIMIT} a page, {count:,} reports, "
            f"{RATE:g} requests/s (always PostgreSQL)",
            box.p99_ms,
            "ms",
            f"< {P99_BAR_MS:g} ms",
            passed=(box.p99_ms < P99_BAR_MS and box.errors == 0) if bars else None,
            details=_details(box, closed["bbox"], cpu["bbox"])
            | common
            | {"items_mean": found["bbox_items_mean"]},
        ),
    ]
