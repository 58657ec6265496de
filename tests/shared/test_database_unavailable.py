"""A database that cannot be reached is a 503 with Retry-After, never a 500: the client
sends the request again (a report with the same Idempotency-Key) and nothing is filed twice."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from devtools.stack import free_ports
from intake_service.app import create_app
from intake_service.config import Settings
from shared.db import database_unavailable
from tests.helpers import POTHOLE, serve


def unreachable(kind: str, folder: Path) -> str:
    if kind == "postgresql":
        [port] = free_ports(1)  # nothing listens there
        return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/mam"
    return f"sqlite+aiosqlite:///{folder / 'no-such-folder' / 'intake.db'}"


def sqlite_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


@asynccontextmanager
async def sqlite_threads_ended() -> AsyncIterator[None]:
    """aiosqlite stops the thread of a connection that could not open only after the
    request has had its answer: wait for those threads while the event loop still runs,
    so that none of them answers a closed loop during a later test."""
    before = sqlite_threads()
    yield
    for thread in sqlite_threads() - before:
        await asyncio.to_thread(thread.join, 30)
        assert not thread.is_alive()


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_a_report_filed_while_the_database_is_down_gets_503(
    kind: str, tmp_path: Path
):
    settings = Settings(
        environment="test",
        database_url=unreachable(kind, tmp_path),
        data_dir=tmp_path,
        run_worker=False,
    )
    async with sqlite_threads_ended():
        async for client in serve(create_app(settings)):
            answer = await client.post(
                "/v1/reports",
                json=POTHOLE,
                headers={
                    "Idempotency-Key": f"down-{uuid.uuid4()}",
                    "Accept-Language": "de",
                },
            )
            read = await client.get(f"/v1/reports/{uuid.uuid4()}")
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["Retry-After"] == "2"
    problem = answer.json()
    assert problem["type"] == "urn:mam:problem:database-unavailable"
    assert problem["title"] == "Vorübergehend nicht verfügbar"
    assert read.status_code == 503


def test_a_wrong_statement_or_row_is_not_taken_for_an_outage():
    duplicate = IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))
    no_table = OperationalError("SELECT ...", {}, Exception("no such table: reports"))
    locked = OperationalError("INSERT ...", {}, Exception("database is locked"))
    assert not database_unavailable(duplicate)
    assert not database_unavailable(no_table)
    assert not database_unavailable(ValueError("bad"))
    assert database_unavailable(locked)
    assert database_unavailable(ConnectionRefusedError(111, "Connection refused"))
