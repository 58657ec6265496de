"""B6: `nearby` and map-box listing with a million reports on PostgreSQL."""

from __future__ import annotations

from bench.harness import Figure, Options


async def b6(options: Options) -> list[Figure]:
    return []
