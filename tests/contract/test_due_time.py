"""The time intake promises the resident is the time the adapter tracks the case against."""

import datetime as dt

import httpx
import pytest

from intake_service.db import OutboxEvent
from shared.db import make_engine, make_sessionmaker
from shared.relay import OutboxRelay
from shared.retry import Backoff
from shared.signing import Signer
from tests.helpers import POTHOLE, READ


@pytest.mark.parametrize(
    ("category", "target"),
    [
        ("pothole", dt.timedelta(days=7)),
        ("traffic_signal_fault", dt.timedelta(hours=4)),
    ],
)
async def test_intake_expected_resolution_is_the_adapter_due_time(
    intake, intake_settings, adapter, adapter_app, category, target, clock
):
    created = await intake.post("/v1/reports", json={**POTHOLE, "category": category})
    assert created.status_code == 201, created.text
    report = created.json()
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
        "/admin/cases", params={"report_id": report["id"]}, headers=READ
    )
    assert response.status_code == 200, response.text
    [case] = response.json()["items"]
    promised = dt.datetime.fromisoformat(report["expected_resolution_at"])
    assert dt.datetime.fromisoformat(case["due_at"]) == promised
    # Filed on a Monday morning, five working days are a calendar week; four hours are
    # four hours.
    submitted = dt.datetime.fromisoformat(report["created_at"])
    assert promised - submitted == target
    # What intake shows the resident later says the same.
    shown = (await intake.get(f"/v1/reports/{report['id']}")).json()
    assert dt.datetime.fromisoformat(shown["expected_resolution_at"]) == promised
