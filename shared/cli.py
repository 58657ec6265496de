"""The command line every service has: `api`, `worker` and `migrate`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn
from fastapi import FastAPI

from shared.logging import configure_logging
from shared.runtime import StartLoops, run_worker
from shared.settings import ServiceSettings


def main(
    *,
    prog: str,
    settings_factory: Callable[[], ServiceSettings],
    create_app: Callable[[Any], FastAPI],
    loops: Callable[[Any], StartLoops],
    migrate: Callable[[Any], Coroutine[Any, Any, None]],
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    api = commands.add_parser(
        "api", help="serve the HTTP API (and, by default, the loops)"
    )
    api.add_argument("--host", help="address to listen on (default from settings)")
    api.add_argument(
        "--port", type=int, help="port to listen on (default from settings)"
    )
    commands.add_parser("worker", help="run only the background loops")
    commands.add_parser(
        "migrate", help="apply database migrations and seed default data"
    )
    args = parser.parse_args(argv)

    settings = settings_factory()
    configure_logging(json_output=settings.log_json, level=settings.log_level)
    if args.command == "api":
        uvicorn.run(
            create_app(settings),
            host=args.host or settings.host,
            port=args.port or settings.port,
            log_config=None,
            proxy_headers=True,
        )
    elif args.command == "worker":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_worker(settings.database_url, loops(settings)))
    else:
        asyncio.run(migrate(settings))
