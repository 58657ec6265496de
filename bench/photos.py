"""B2 and B3: photo processing cost against plain Pillow, and intake's memory under uploads."""

from __future__ import annotations

from bench.harness import Figure, Options


async def b2(options: Options) -> list[Figure]:
    return []


async def b3(options: Options) -> list[Figure]:
    return []
