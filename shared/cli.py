"""The command line every service has (`api`, `worker`, `migrate`), plus its own commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI

from shared.logging import configure_logging
from shared.runtime import StartLoops, run_worker
from shared.settings import ServiceSettings


@dataclass(frozen=True)
class Command:
    """A service's own subcommand: `configure` adds its arguments, `run` does it.

    `run` gets the parsed arguments and the service's settings and returns the exit status.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Any], Coroutine[Any, Any, int]]


def main(
    *,
    prog: str,
    settings_factory: Callable[[], ServiceSettings],
    create_app: Callable[[Any], FastAPI],
    loops: Callable[[Any], StartLoops],
    migrate: Callable[[Any], Coroutine[Any, Any, None]],
    commands: Sequence[Command] = (),
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=prog)
    subparsers = parser.add_subparsers(dest="command", required=True)
    api = subparsers.add_parser(
        "api", help="serve the HTTP API (and, by default, the loops)"
    )
    api.add_argument("--host", help="address to listen on (default from settings)")
    api.add_argument(
        "--port", type=int, help="port to listen on (default from settings)"
    )
    subparsers.add_parser("worker", help="run only the background loops")
    subparsers.add_parser(
        "migrate", help="apply database migrations and seed default data"
    )
    own = {command.name: command for command in commands}
    for command in commands:
        command.configure(subparsers.add_parser(command.name, help=command.help))
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
            asyncio.run(run_worker(settings, loops(settings)))
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
    elif status := asyncio.run(own[args.command].run(args, settings)):
        raise SystemExit(status)
