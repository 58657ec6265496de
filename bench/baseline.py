"""The least a report endpoint can do: one transaction writing a report row and an outbox row.

`python -m bench.baseline --port P --database-url URL` serves `POST /v1/reports` with FastAPI
on uvicorn, exactly as the services are served, on asyncpg (PostgreSQL) or aiosqlite (SQLite)
without an ORM. Intake's figures are divided by this one's, measured in the same run, so
the ratio says what intake's checks and guarantees cost over the durable write itself.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
import asyncpg
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS reports (id uuid PRIMARY KEY, category text NOT NULL, "
    "lat double precision NOT NULL, lon double precision NOT NULL, description text NOT NULL, "
    "created_at timestamptz NOT NULL)",
    "CREATE TABLE IF NOT EXISTS outbox (id uuid PRIMARY KEY, aggregate_id uuid NOT NULL, "
    "payload text NOT NULL, created_at timestamptz NOT NULL)",
)


class Location(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ReportIn(BaseModel):
    category: str = Field(max_length=64)
    location: Location
    description: str = Field(max_length=2000)


def _rows(report: ReportIn) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    now = dt.datetime.now(dt.UTC)
    report_id = uuid.uuid4()
    event = json.dumps({"report_id": str(report_id), **report.model_dump()})
    return (
        (
            report_id,
            report.category,
            report.location.lat,
            report.location.lon,
            report.description,
            now,
        ),
        (uuid.uuid4(), report_id, event, now),
    )


def postgres_app(dsn: str) -> FastAPI:
    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=5, max_size=15)
        async with pool.acquire() as connection:
            for statement in SCHEMA:
                await connection.execute(statement)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/reports", status_code=201)
    async def create(report: ReportIn) -> dict[str, str]:
        assert pool is not None
        row, event = _rows(report)
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO reports VALUES ($1, $2, $3, $4, $5, $6)", *row
            )
            await connection.execute(
                "INSERT INTO outbox VALUES ($1, $2, $3, $4)", *event
            )
        return {"id": str(row[0])}

    return app


def sqlite_app(path: str) -> FastAPI:
    connection: aiosqlite.Connection | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal connection
        connection = await aiosqlite.connect(path, isolation_level=None)
        # As the services open SQLite: write-ahead log, every commit on disk.
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=FULL")
        for statement in SCHEMA:
            await connection.execute(statement)
        yield
        await connection.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/reports", status_code=201)
    async def create(report: ReportIn) -> dict[str, str]:
        assert connection is not None
        row, event = _rows(report)
        # One connection: its statements run one after another, like SQLite's one writer.
        await connection.execute("BEGIN IMMEDIATE")
        try:
            await connection.execute(
                "INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?)",
                (str(row[0]), *row[1:5], row[5].isoformat()),
            )
            await connection.execute(
                "INSERT INTO outbox VALUES (?, ?, ?, ?)",
                (str(event[0]), str(event[1]), event[2], event[3].isoformat()),
            )
            await connection.execute("COMMIT")
        except BaseException:
            await connection.execute("ROLLBACK")
            raise
        return {"id": str(row[0])}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--database-url",
        required=True,
        help="postgresql://… or sqlite:///path/to/file.db",
    )
    args = parser.parse_args()
    url: str = args.database_url
    app = (
        sqlite_app(url.removeprefix("sqlite:///"))
        if url.startswith("sqlite:")
        else postgres_app(url)
    )
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        # As the services by default: no proxy is trusted, forwarded headers go unread.
        proxy_headers=False,
        access_log=False,
    )


if __name__ == "__main__":
    main()
