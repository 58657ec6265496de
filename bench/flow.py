"""B4 and B5: a steady load through the whole path, and the adapter killed under it."""

from __future__ import annotations

from bench.harness import Figure, Options


async def b4(options: Options) -> list[Figure]:
    return []


async def b5(options: Options) -> list[Figure]:
    return []
