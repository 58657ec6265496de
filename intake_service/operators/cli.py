"""`python -m intake_service operator-key create|list|revoke`: keys kept in the database."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.config import Settings
from intake_service.operators import service
from shared.cli import Command
from shared.db import make_engine, make_sessionmaker
from shared.operators import NAME_PATTERN, ConfiguredKey, Role


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
    session: AsyncSession, args: argparse.Namespace, configured: Sequence[ConfiguredKey]
) -> int:
    try:
        key = await service.create_key(
            session, name=args.name, role=Role(args.role), configured=configured
        )
    except service.KeyNameTaken:
        _say(f"A key named {args.name!r} exists (names are never reused).")
        return 1
    # The key alone on stdout, so that `KEY=$(… operator-key create …)` takes just it.
    sys.stdout.write(key + "\n")
    _say(
        f"Operator key {args.name!r} ({args.role}) created. It is shown only now and "
        "cannot be recovered: send it as the X-API-Key header."
    )
    return 0


async def _list(session: AsyncSession, configured: Sequence[ConfiguredKey]) -> int:
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
        for key in await service.list_keys(session, configured=configured)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    for row in rows:
        line = "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        )
        sys.stdout.write(line.rstrip() + "\n")
    return 0


async def _revoke(
    session: AsyncSession, args: argparse.Namespace, configured: Sequence[ConfiguredKey]
) -> int:
    try:
        revoked = await service.revoke_key(
            session, name=args.name, configured=configured
        )
    except service.KeyNotFound:
        _say(f"No key is named {args.name!r}.")
        return 1
    except service.KeyInSettings:
        _say(
            f"The key {args.name!r} is in the settings: remove it from "
            "INTAKE_OPERATOR_KEYS and restart."
        )
        return 1
    _say(
        f"Operator key {args.name!r} revoked."
        if revoked
        else f"Operator key {args.name!r} was revoked before."
    )
    return 0


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if args.action == "create":
                return await _create(session, args, settings.operator_keys)
            if args.action == "list":
                return await _list(session, settings.operator_keys)
            return await _revoke(session, args, settings.operator_keys)
    finally:
        await engine.dispose()


COMMAND = Command(
    name="operator-key",
    help="make, list and revoke operator keys (X-API-Key)",
    configure=_configure,
    run=_run,
)
