"""Test databases: SQLite files, and throwaway databases on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

T = TypeVar("T")

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str | None:
    """Where to create test databases: `TEST_DATABASE_URL`, or a server on 127.0.0.1:5432."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return DEFAULT_POSTGRES_URL
    except OSError:
        return None


def postgres_required() -> bool:
    return os.environ.get("REQUIRE_POSTGRES") == "1"


def _asyncpg_dsn(url: str) -> str:
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


@dataclass(frozen=True)
class Databases:
    """One database per service, as in production."""

    intake: str
    adapter: str


async def create_postgres(
    admin_url: str, label: str, template: Databases | None = None
) -> Databases:
    """Two new databases: empty, or copies of `template`'s (which nobody may be connected to)."""
    names = {
        svc: f"mam_test_{label}_{svc}_{uuid.uuid4().hex[:8]}"
        for svc in ("intake", "adapter")
    }
    templates = {
        "intake": template and make_url(template.intake).database,
        "adapter": template and make_url(template.adapter).database,
    }
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        for svc, name in names.items():
            copy = f' TEMPLATE "{templates[svc]}"' if templates[svc] else ""
            await connection.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await connection.close()
    base = make_url(admin_url).set(drivername="postgresql+asyncpg")
    return Databases(
        intake=base.set(database=names["intake"]).render_as_string(hide_password=False),
        adapter=base.set(database=names["adapter"]).render_as_string(
            hide_password=False
        ),
    )


async def drop_postgres(admin_url: str, databases: Databases) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        for url in (databases.intake, databases.adapter):
            name = make_url(url).database
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def sqlite_databases(folder: Path, template: Databases | None = None) -> Databases:
    """Two database files in `folder`: new, or copies of `template`'s."""
    folder.mkdir(parents=True, exist_ok=True)
    databases = Databases(
        intake=f"sqlite+aiosqlite:///{folder / 'intake.db'}",
        adapter=f"sqlite+aiosqlite:///{folder / 'adapter.db'}",
    )
    if template is not None:
        for source, target in (
            (template.intake, databases.intake),
            (template.adapter, databases.adapter),
        ):
            # The backup API copies what is committed, write-ahead log included.
            with (
                closing(sqlite3.connect(_sqlite_path(source))) as original,
                closing(sqlite3.connect(_sqlite_path(target))) as copy,
            ):
                original.backup(copy)
    return databases


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    assert path, url
    return path


class PerBackend(Generic[T]):
    """One `T` per backend, made the first time a test asks for it and kept until the
    `with` block ends (the session, in a session fixture).

    A session fixture parametrized by backend would do the same on paper, but pytest tears
    it down and makes it again each time the order of the tests switches between backends,
    which spread over modules it does dozens of times.
    """

    def __init__(self, make: Callable[[str], AbstractContextManager[T]]) -> None:
        self._make = make
        self._exits = ExitStack()
        self._made: dict[str, T] = {}

    def __call__(self, backend: str) -> T:
        if backend not in self._made:
            self._made[backend] = self._exits.enter_context(self._make(backend))
        return self._made[backend]

    def __enter__(self) -> PerBackend[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._exits.close()


def new_databases(
    backend: str, folder: Path, label: str, template: Databases | None = None
) -> Iterator[Databases]:
    """Both services' databases, empty or copies of `template`'s; dropped afterwards."""
    if backend == "sqlite":
        yield sqlite_databases(folder, template)
        return
    admin = postgres_admin_url()
    assert admin is not None
    databases = asyncio.run(create_postgres(admin, label, template))
    try:
        yield databases
    finally:
        asyncio.run(drop_postgres(admin, databases))
