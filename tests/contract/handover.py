"""Handing intake's outbox to the adapter in process, and reading the case it made."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from intake_service.config import Settings as IntakeSettings
from intake_service.db import OutboxEvent
from shared.db import make_engine, make_sessionmaker
from shared.relay import OutboxRelay
from shared.retry import Backoff
from shared.signing import Signer
from tests.helpers import READ


async def case_of(
    report_id: str,
    *,
    intake_settings: IntakeSettings,
    adapter_app: FastAPI,
    adapter: httpx.AsyncClient,
) -> dict[str, Any]:
    """Relay intake's one waiting event to the adapter; the adapter's case of the report."""
    engine = make_engine(intake_settings.database_url)
    relay = OutboxRelay(
        sessionmaker=make_sessionmaker(engine),
        model=OutboxEvent,
        client=httpx.AsyncClient(transport=httpx.ASGITransport(app=adapter_app)),
        url="http://adapter/internal/events",
        signer=Signer(intake_settings.adapter_secret.get_secret_value()),
        backoff=Backoff(),
    )
    try:
        assert await relay.run_once() == 1
    finally:
        await engine.dispose()
    response = await adapter.get(
        "/admin/cases", params={"report_id": report_id}, headers=READ
    )
    assert response.status_code == 200, response.text
    [case] = response.json()["items"]
    return dict(case)
