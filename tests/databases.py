"""Test databases: SQLite files, and throwaway databases on a real PostgreSQL."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

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


async def create_postgres(admin_url: str, label: str) -> Databases:
    names = {
        svc: f"mam_test_{label}_{svc}_{uuid.uuid4().hex[:8]}"
        for svc in ("intake", "adapter")
    }
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        for name in names.values():
            await connection.execute(f'CREATE DATABASE "{name}"')
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


def sqlite_databases(folder: Path) -> Databases:
    folder.mkdir(parents=True, exist_ok=True)
    return Databases(
        intake=f"sqlite+aiosqlite:///{folder / 'intake.db'}",
        adapter=f"sqlite+aiosqlite:///{folder / 'adapter.db'}",
    )
