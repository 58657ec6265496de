"""`python -m <service> operator-key create|list|revoke`: keys kept in the database.

The same command serves other keys kept the same way (e.g. intake's Open311 client keys,
which have no role).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

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


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")


def _when(value: dt.datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


@dataclass(frozen=True)
class _Keys:
    store: OperatorStore
    label: str
    """How messages name a key, e.g. `Operator key`."""
    settings_field: str
    """The settings' list of keys given by hash, e.g. `operator_keys`."""
    roles: bool

    def configure(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser(
            "create", help="make a key and print it: it is shown only this once"
        )
        create.add_argument("--name", required=True, type=_key_name, help="who uses it")
        if self.roles:
            create.add_argument(
                "--role",
                required=True,
                choices=[role.value for role in Role],
                help="read: lists, results, exports; manage: also changes",
            )
        actions.add_parser("list", help="every key's name and use (never the keys)")
        revoke = actions.add_parser("revoke", help="revoke a key at once")
        revoke.add_argument("--name", required=True, help="the key's name")

    async def run(self, args: argparse.Namespace, settings: ServiceSettings) -> int:
        configured: Sequence[ConfiguredKey] = getattr(settings, self.settings_field)
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                if args.action == "create":
                    return await self._create(session, args, configured)
                if args.action == "list":
                    return await self._list(session, configured)
                return await self._revoke(session, args, settings, configured)
        finally:
            await engine.dispose()

    async def _create(
        self,
        session: AsyncSession,
        args: argparse.Namespace,
        configured: Sequence[ConfiguredKey],
    ) -> int:
        role = Role(args.role) if self.roles else Role.READ
        try:
            key = await self.store.create_key(
                session, name=args.name, role=role, configured=configured
            )
        except KeyNameTaken:
            _say(f"A key named {args.name!r} exists (names are never reused).")
            return 1
        # The key alone on stdout, so that `KEY=$(… create …)` takes just it.
        sys.stdout.write(key + "\n")
        what = f"{args.name!r} ({role.value})" if self.roles else repr(args.name)
        _say(
            f"{self.label} {what} created. It is shown only now and cannot be recovered."
        )
        return 0

    async def _list(
        self, session: AsyncSession, configured: Sequence[ConfiguredKey]
    ) -> int:
        columns = ["name", "role", "source", "created_at", "last_used_at", "revoked_at"]
        if not self.roles:
            columns.remove("role")
        rows = [tuple(columns)]
        for key in await self.store.list_keys(session, configured=configured):
            cells = [key.name, key.role.value, key.source]
            if not self.roles:
                cells.remove(key.role.value)
            cells += [
                _when(key.created_at),
                _when(key.last_used_at),
                _when(key.revoked_at),
            ]
            rows.append(tuple(cells))
        widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
        for row in rows:
            line = "  ".join(
                cell.ljust(width) for cell, width in zip(row, widths, strict=True)
            )
            sys.stdout.write(line.rstrip() + "\n")
        return 0

    async def _revoke(
        self,
        session: AsyncSession,
        args: argparse.Namespace,
        settings: ServiceSettings,
        configured: Sequence[ConfiguredKey],
    ) -> int:
        try:
            revoked = await self.store.revoke_key(
                session, name=args.name, configured=configured
            )
        except KeyNotFound:
            _say(f"No key is named {args.name!r}.")
            return 1
        except KeyInSettings:
            variable = (
                str(settings.model_config.get("env_prefix", ""))
                + self.settings_field.upper()
            )
            _say(
                f"The key {args.name!r} is in the settings: remove it from {variable} "
                "and restart."
            )
            return 1
        _say(
            f"{self.label} {args.name!r} revoked."
            if revoked
            else f"{self.label} {args.name!r} was revoked before."
        )
        return 0


def operator_key_command(
    store: OperatorStore,
    *,
    name: str = "operator-key",
    help: str = "make, list and revoke operator keys (X-API-Key)",
    label: str = "Operator key",
    settings_field: str = "operator_keys",
    roles: bool = True,
) -> Command:
    """The subcommand making, listing and revoking the keys of `store`."""
    keys = _Keys(store, label=label, settings_field=settings_field, roles=roles)
    return Command(name=name, help=help, configure=keys.configure, run=keys.run)
