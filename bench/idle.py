"""B7: what each service holds in memory when nothing is happening."""

from __future__ import annotations

import asyncio

from bench.harness import Figure, Options, databases, rss_mib, stack

BAR_MIB = 150.0
SETTLE_SECONDS = 5.0


async def b7(options: Options) -> list[Figure]:
    async with databases(options, "b7") as dbs:
        with stack(dbs, options.work_dir) as local:
            # Started, migrated and healthy; let the first loop iterations run.
            await asyncio.sleep(1.0 if options.quick else SETTLE_SECONDS)
            memory = {
                name: rss_mib(process.pid) for name, process in local.processes.items()
            }
    return [
        Figure(
            "B7",
            f"idle RSS of {name}",
            round(memory[name], 1),
            "MiB",
            f"< {BAR_MIB:.0f} MiB",
            passed=memory[name] < BAR_MIB if not options.quick else None,
        )
        for name in ("intake", "adapter")
    ]
