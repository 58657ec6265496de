"""`python -m <service> operator-key create|list|revoke`: keys kept in the database."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared.cli import Command
from shared.db import make_engine, make_sessionmaker
from shared.operator_store import (
    KeyInSettings,
    KeyNameTaken,
    KeyNotFound,
    OperatorStore,
)
from shared.operators import NAME_PATTERN, ConfiguredKey, Role
from shared.settings import ServiceSettings


def _key_name(value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        raise argparse.ArgumentTypeError(
            "1-100 of A-Z, a-z, 0-9, '.', '_', '-', starting with a letter or digit "
            "(an identifier such as ops-jan, not an e-mail address)"
        )
    return value


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create", help="make a key and print it: it is shown only this once"
    )
    create.add_argument("--name", required=True, type=_key_name, help="who uses it")
    create.add_argument(
        "--role",
        required=True,
        choices=[role.value for role in Role],
        help="read: lists, results, exports; manage: also changes",
    )
    actions.add_parser("list", help="every key's name, role and use (never the keys)")
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("--name", required=True, help="the key's name")


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")


def _when(value: dt.datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


async def _create(
    store: OperatorStore,
    session: AsyncSession,
    args: argparse.Namespace,
    configured: Sequence[ConfiguredKey],
) -> int:
    try:
        key = await store.create_key(
            session, name=args.name, role=Role(args.role), configured=configured
        )
    except KeyNameTaken:
        _say(f"A key named {args.name!r} exists (names are never reused).")
        return 1
    # The key alone on stdout, so that `KEY=$(… operator-key create …)` takes just it.
    sys.stdout.write(key + "\n")
    _say(
        f"Operator key {args.name!r} ({args.role}) created. It is shown only now and "
        "cannot be recovered: send it as the X-API-Key header."
    )
    return 0


async def _list(
    store: OperatorStore, session: AsyncSession, configured: Sequence[ConfiguredKey]
) -> int:
    columns = ("name", "role", "source", "created_at", "last_used_at", "revoked_at")
    rows = [columns] + [
        (
            key.name,
            key.role.value,
            key.source,
            _when(key.created_at),
            _when(key.last_used_at),
            _when(key.revoked_at),
        )
        for key in await store.list_keys(session, configured=configured)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    for row in rows:
        line = "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        )
        sys.stdout.write(line.rstrip() + "\n")
    return 0


async def _revoke(
    store: OperatorStore,
    session: AsyncSession,
    args: argparse.Namespace,
    settings: ServiceSettings,
) -> int:
    configured = settings.operator_keys
    try:
        revoked = await store.revoke_key(session, name=args.name, configured=configured)
    except KeyNotFound:
        _say(f"No key is named {args.name!r}.")
        return 1
    except KeyInSettings:
        _say(
            f"The key {args.name!r} is in the settings: remove it from "
            f"{settings.model_config.get('env_prefix', '')}OPERATOR_KEYS and restart."
        )
        return 1
    _say(
        f"Operator key {args.name!r} revoked."
        if revoked
        else f"Operator key {args.name!r} was revoked before."
    )
    return 0


def operator_key_command(store: OperatorStore) -> Command:
    """The `operator-key` subcommand over a service's key store."""

    async def run(args: argparse.Namespace, settings: ServiceSettings) -> int:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                if args.action == "create":
                    return await _create(store, session, args, settings.operator_keys)
                if args.action == "list":
                    return await _list(store, session, settings.operator_keys)
                return await _revoke(store, session, args, settings)
        finally:
            await engine.dispose()

    return Command(
        name="operator-key",
        help="make, list and revoke operator keys (X-API-Key)",
        configure=_configure,
        run=run,
    )
