"""The command line every service has (`api`, `worker`, `migrate`), plus its own commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from shared.cli_errors import explain, explain_settings
from shared.logging import configure_logging
from shared.runtime import StartLoops, run_worker
from shared.settings import ServiceSettings
from shared.slow_clients import deadline_protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    """A service's own subcommand: `configure` adds its arguments, `run` does it.

    `run` gets the parsed arguments and the service's settings and returns the exit status.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Any], Coroutine[Any, Any, int]]


def proxy_options(settings: ServiceSettings) -> dict[str, Any]:
    """uvicorn's options for X-Forwarded-For and X-Forwarded-Proto: read only when a trusted
    proxy (`trusted_proxies`) sent them, and not at all when none is configured.

    uvicorn would otherwise believe them from 127.0.0.1 (or `FORWARDED_ALLOW_IPS`), and any
    client on the host, or reaching it through something that forwards connections, could
    name the address it is seen under, and throttled by, with each request.
    """
    trusted = [str(network) for network in settings.trusted_proxies]
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


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

    try:
        settings = settings_factory()
    except ValidationError as error:
        prefix = str(
            getattr(settings_factory, "model_config", {}).get("env_prefix", "")
        )
        sys.stderr.write(explain_settings(error, prefix, prog) + "\n")
        raise SystemExit(2) from None
    configure_logging(json_output=settings.log_json, level=settings.log_level)
    if args.command == "api":
        _serve(args, settings, create_app)
        return
    try:
        status = _run(args, settings, loops, migrate, own)
    except Exception as error:
        explained = explain(error, settings, prog)
        if explained is None:
            raise
        sys.stderr.write(explained + "\n")
        raise SystemExit(1) from None
    if status:
        raise SystemExit(status)


def _serve(
    args: argparse.Namespace, settings: Any, create_app: Callable[[Any], FastAPI]
) -> None:
    if "FORWARDED_ALLOW_IPS" in os.environ:
        # uvicorn's own variable is not read: a deployment relying on it would have
        # every client seen as its proxy, and throttled together.
        logger.warning(
            "settings.forwarded_allow_ips_ignored",
            extra={
                "use": f"{settings.model_config.get('env_prefix', '')}TRUSTED_PROXIES"
            },
        )
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        # uvicorn waits for a request's head for ever; this protocol does not.
        http=deadline_protocol(settings.header_timeout_seconds),
        **proxy_options(settings),
    )


def _run(
    args: argparse.Namespace,
    settings: Any,
    loops: Callable[[Any], StartLoops],
    migrate: Callable[[Any], Coroutine[Any, Any, None]],
    own: dict[str, Command],
) -> int:
    """Run a command other than `api`; its exit status."""
    if args.command == "worker":
        return asyncio.run(run_worker(settings, loops(settings)))
    if args.command == "migrate":
        asyncio.run(migrate(settings))
        return 0
    return asyncio.run(own[args.command].run(args, settings))
