"""A status change reaches intake in its report's trace, and the resident's notifications
are sent in it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from intake_service.notifications.channels import EmailSender, LogPushSender
from intake_service.notifications.delivery import DeliveryLoop
from intake_service.notifications.models import NotificationDelivery, Platform
from shared.contracts import ReportStatus
from shared.db import make_engine, make_sessionmaker
from shared.retry import Backoff
from tests.helpers import POTHOLE, register_and_sign_in
from tests.signed import status_event
from tests.tracing import TRACE, TRACEPARENT, Spans, hex_trace, recorded_spans, trace_of


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spans]:
    yield from recorded_spans(monkeypatch)


@pytest.fixture
async def sessionmaker(intake_settings):
    engine = make_engine(intake_settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_a_status_changes_notifications_are_sent_in_its_trace(
    intake, intake_settings, sessionmaker, spans
):
    headers = await register_and_sign_in(intake, "anna@example.org")
    report = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
    body, signed = status_event(report.json()["id"], ReportStatus.IN_PROGRESS, 1)
    answer = await intake.post(
        "/internal/events", content=body, headers=signed | {"traceparent": TRACEPARENT}
    )
    assert answer.status_code == 202
    async with sessionmaker() as session:
        [delivery] = (await session.scalars(select(NotificationDelivery))).all()
    assert (delivery.channel, trace_of(delivery.traceparent)) == ("email", TRACE)

    loop = DeliveryLoop(
        sessionmaker=sessionmaker,
        push=dict.fromkeys(Platform, LogPushSender()),
        email=EmailSender(intake_settings.mailer(), intake_settings.mail_from),
        backoff=Backoff(base=2.0, cap=60.0, budget=dt.timedelta(hours=1)),
    )
    assert await loop.run_once() == 1
    [sent] = spans.named("notification.send")
    assert hex_trace(sent) == TRACE
