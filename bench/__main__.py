"""`python -m bench [--quick] [--database postgresql|sqlite] [--only B1,B7]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import flood, flow, front_door, idle, listing, photos
from bench.harness import Figure, Options, machine, table, write_results

FIGURES: dict[str, Callable[[Options], Awaitable[list[Figure]]]] = {
    "B1": front_door.b1,  # B1 and B1h share their processes
    "B2": photos.b2,
    "B3": photos.b3,
    "B4": flow.b4,
    "B5": flow.b5,
    "B6": listing.b6,
    "B7": idle.b7,
    "B8": flood.b8,
}


async def run(options: Options, only: list[str]) -> list[Figure]:
    figures: list[Figure] = []
    for name, measure in FIGURES.items():
        if only and name not in only:
            continue
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} measuring {name}…\n")
        figures += await measure(options)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and short rounds: proves the harness works, judges no bar",
    )
    parser.add_argument(
        "--database", choices=("postgresql", "sqlite"), default="postgresql"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated figures, e.g. B1,B7"
    )
    args = parser.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="mam-bench-") as folder:
        options = Options(
            quick=args.quick, database=args.database, work_dir=Path(folder)
        )
        only = [name.strip() for name in args.only.split(",") if name.strip()]
        figures = asyncio.run(run(options, only))
    about = machine()
    sys.stdout.write(
        f"{about['cpu']}, {about['cores']} cores, {about['memory_gib']} GiB; "
        f"{args.database}{' (quick: no bars judged)' if args.quick else ''}\n\n"
    )
    sys.stdout.write(table(figures) + "\n\n")
    path = write_results(figures, options, started)
    sys.stdout.write(f"written to {path}\n")
    return 1 if any(f.passed is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
