"""Intake's relay delivers to the adapter's real endpoint; a redelivery changes nothing."""

import httpx
from sqlalchemy import func, select, update

from crm_adapter.cases.models import Case
from intake_service.db import OutboxEvent
from shared.db import make_engine, make_sessionmaker
from shared.relay import OutboxRelay
from shared.retry import Backoff
from shared.signing import Signer
from tests.helpers import POTHOLE


async def test_report_reaches_the_adapter_once_even_when_sent_twice(
    intake, intake_settings, adapter, adapter_app, adapter_session
):
    created = await intake.post("/v1/reports", json=POTHOLE)
    assert created.status_code == 201
    engine = make_engine(intake_settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    relay = OutboxRelay(
        sessionmaker=sessionmaker,
        model=OutboxEvent,
        client=httpx.AsyncClient(transport=httpx.ASGITransport(app=adapter_app)),
        url="http://adapter/internal/events",
        signer=Signer(intake_settings.adapter_secret.get_secret_value()),
        backoff=Backoff(),
    )
    try:
        assert await relay.run_once() == 1
        # The acknowledgement is lost: the relay sends the same event again.
        async with sessionmaker() as session:
            await session.execute(update(OutboxEvent).values(status="pending"))
            await session.commit()
        assert await relay.run_once() == 1
        async with sessionmaker() as session:
            statuses = (await session.scalars(select(OutboxEvent.status))).all()
    finally:
        await engine.dispose()

    assert statuses == ["sent"]
    cases = (await adapter_session.scalars(select(Case))).all()
    assert [(str(c.report_id), c.unit_code, c.state) for c in cases] == [
        (created.json()["id"], "zdium", "pending")
    ]
    assert await adapter_session.scalar(select(func.count()).select_from(Case)) == 1
