"""`/readyz` on both services: 200 only while the database, the schema, the loops and the
photo store are fit for work; otherwise a 503 naming what is not. `/healthz` stays 200."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from crm_adapter.config import Settings as AdapterSettings
from crm_adapter.migrations import SCRIPT_LOCATION as ADAPTER_MIGRATIONS
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings
from shared.background import LoopGroup
from shared.db import make_engine
from shared.readiness import Readiness
from tests.helpers import eventually, serve

ALL_OK = {"database": "ok", "migrations": "ok", "loops": "ok"}


async def ready(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/readyz", headers={"Accept-Language": "en"})


async def test_both_services_are_ready_on_migrated_databases(
    intake: httpx.AsyncClient, adapter: httpx.AsyncClient
) -> None:
    answer = await ready(intake)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ready", "checks": {**ALL_OK, "storage": "ok"}}
    answer = await ready(adapter)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ready", "checks": ALL_OK}


async def test_a_schema_behind_the_code_is_not_ready_until_migrated(
    adapter: httpx.AsyncClient, adapter_settings: AdapterSettings
) -> None:
    engine = make_engine(adapter_settings.database_url)
    try:
        async with engine.begin() as connection:
            head = (
                await connection.execute(
                    text("SELECT version_num FROM alembic_version")
                )
            ).scalar_one()
            await connection.execute(
                text("UPDATE alembic_version SET version_num = 'an_older_one'")
            )
        try:
            answer = await ready(adapter)
        finally:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE alembic_version SET version_num = :head"),
                    {"head": head},
                )
    finally:
        await engine.dispose()
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "5"
    problem = answer.json()
    assert problem["type"] == "urn:mam:problem:not-ready"
    assert problem["title"] == "Not ready"
    assert problem["checks"]["database"] == "ok"
    assert problem["checks"]["migrations"] == (
        f"NotReady: schema at an_older_one, code expects {head}: run migrate"
    )
    assert (await ready(adapter)).status_code == 200


async def test_a_photo_folder_that_cannot_be_written_is_not_ready(
    intake: httpx.AsyncClient, intake_settings: IntakeSettings
) -> None:
    folder = intake_settings.photo_dir
    assert folder is not None
    folder.rmdir()
    folder.write_text("a file where the photo folder was\n")
    answer = await ready(intake)
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["storage"] != "ok"
    assert {name: checks[name] for name in ALL_OK} == ALL_OK
    # The process itself is fine: nothing to restart.
    assert (await intake.get("/healthz")).json() == {"status": "ok"}
    folder.unlink()
    folder.mkdir()
    assert (await ready(intake)).status_code == 200


async def test_a_loop_that_ended_makes_its_process_not_ready(
    adapter: httpx.AsyncClient, adapter_app: FastAPI
) -> None:
    async def crashes() -> None:
        raise RuntimeError("a bug past the loop's own error handling")

    adapter_app.state.readiness.loops.spawn("crm.push", crashes())

    async def crashed() -> list[str]:
        return list(adapter_app.state.readiness.loops.stopped())

    await eventually(crashed, what="the loop's end")
    answer = await ready(adapter)
    assert answer.status_code == 503
    assert answer.json()["checks"]["loops"] == "NotReady: stopped: crm.push"


async def test_a_database_that_does_not_answer_is_not_ready(
    backend: str, tmp_path: Path, unused_tcp_port: int
) -> None:
    url = (
        f"sqlite+aiosqlite:///{tmp_path}/missing-folder/intake.db"
        if backend == "sqlite"
        else f"postgresql+asyncpg://postgres@127.0.0.1:{unused_tcp_port}/intake"
    )
    settings = IntakeSettings(
        environment="test", database_url=url, data_dir=tmp_path, run_worker=False
    )
    async for client in serve(create_intake(settings)):
        answer = await ready(client)
        assert answer.status_code == 503
        checks = answer.json()["checks"]
        assert checks["database"] != "ok"
        assert checks["migrations"] != "ok"
        assert checks["storage"] == "ok"
        assert (await client.get("/healthz")).status_code == 200


async def test_a_check_that_hangs_is_reported_within_the_limit(
    adapter_settings: AdapterSettings,
) -> None:
    engine = make_engine(adapter_settings.database_url)
    never = asyncio.Event()

    async def hangs() -> None:
        await never.wait()

    try:
        readiness = Readiness(
            engine, ADAPTER_MIGRATIONS, LoopGroup(), {"crm": hangs}, timeout=0.05
        )
        outcomes = await readiness.run()
    finally:
        await engine.dispose()
    assert outcomes == {**ALL_OK, "crm": "no answer within 0.05 s"}
