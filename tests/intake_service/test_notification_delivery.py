"""Notifications leave by push (FCM, APNs) and e-mail, each channel on its own, each once."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from intake_service.accounts.models import Account, Device
from intake_service.config import Settings
from intake_service.notifications.channels import EmailSender
from intake_service.notifications.delivery import DeliveryLoop
from intake_service.notifications.models import NotificationDelivery
from intake_service.worker import push_senders
from shared.contracts import ReportStatus
from shared.db import make_engine, make_sessionmaker, utcnow
from shared.retry import Backoff
from tests.helpers import POTHOLE, register_and_sign_in
from tests.push_service import PushService, push_service
from tests.signed import status_event
from tests.smtp import Inbox, smtp_server

ANDROID, IPHONE = "fcm-token-of-annas-android-phone", "a1b2c3d4e5f6a7b8c9d0" * 3


@pytest.fixture
async def push(tmp_path: Path) -> AsyncIterator[PushService]:
    async for service in push_service(tmp_path):
        yield service


@pytest.fixture
def smtp():
    yield from smtp_server()


@pytest.fixture
def settings(intake_settings: Settings, push: PushService, smtp) -> Settings:
    _, port = smtp
    return intake_settings.model_copy(
        update={
            "push_fcm_credentials_file": push.fcm_credentials,
            "push_fcm_url": push.url,
            "push_apns_key_file": push.apns_key,
            "push_apns_key_id": "TESTKEY123",
            "push_apns_team_id": "TEAM123456",
            "push_apns_topic": "pl.wroclaw.mam",
            "push_apns_url": push.url,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
        }
    )


@pytest.fixture
async def database(settings: Settings):
    engine = make_engine(settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def loop(settings: Settings, database) -> AsyncIterator[DeliveryLoop]:
    async with httpx.AsyncClient() as client:
        yield DeliveryLoop(
            sessionmaker=database,
            push=push_senders(settings, client, client),
            email=EmailSender(settings.mailer(), settings.mail_from),
            backoff=Backoff(base=2.0, cap=60.0, budget=dt.timedelta(hours=1)),
        )


async def verified_resident(intake, database, email="anna@example.org", lang="pl"):
    """A resident who verified their address with the code mailed to it."""
    return await register_and_sign_in(intake, email, lang=lang)


async def register(intake, headers, platform: str, token: str) -> httpx.Response:
    return await intake.post(
        "/v1/me/devices", json={"platform": platform, "token": token}, headers=headers
    )


async def resolve(intake, headers) -> str:
    report = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
    report_id = report.json()["id"]
    body, signed = status_event(
        report_id, ReportStatus.IN_PROGRESS, 1, note="Ekipa w drodze"
    )
    assert (
        await intake.post("/internal/events", content=body, headers=signed)
    ).status_code == 202
    return report_id


async def make_due(database) -> None:
    async with database() as session:
        await session.execute(
            update(NotificationDelivery).values(next_attempt_at=utcnow())
        )
        await session.commit()


async def deliveries(database) -> list[NotificationDelivery]:
    async with database() as session:
        rows = await session.scalars(select(NotificationDelivery))
        return list(rows.all())


class TestChannels:
    async def test_each_device_and_the_inbox_get_the_change_once(
        self, intake, database, loop, push: PushService, smtp
    ):
        inbox: Inbox = smtp[0]
        headers = await verified_resident(intake, database)
        assert (await register(intake, headers, "android", ANDROID)).status_code == 201
        assert (await register(intake, headers, "ios", IPHONE)).status_code == 201
        report_id = await resolve(intake, headers)

        assert await loop.run_once() == 3
        [fcm] = push.to(ANDROID)
        message = fcm.body["message"]
        assert message["notification"]["title"].startswith("Zgłoszenie WRO-")
        assert "w realizacji" in message["notification"]["body"]
        assert "Ekipa w drodze" in message["notification"]["body"]
        assert message["data"]["report_id"] == report_id
        [apns] = push.to(IPHONE)
        assert apns.headers["apns-topic"] == "pl.wroclaw.mam"
        assert apns.headers["apns-push-type"] == "alert"
        assert "w realizacji" in apns.body["aps"]["alert"]["body"]
        [mail] = inbox.to("anna@example.org")
        assert mail["Subject"].startswith("Zgłoszenie WRO-")
        assert "Ekipa w drodze" in mail.get_content()

        assert {d.status for d in await deliveries(database)} == {"sent"}
        assert await loop.run_once() == 0
        assert len(push.received) == 2
        assert len(inbox.messages) == 1

    async def test_texts_follow_the_residents_language(
        self, intake, database, loop, push: PushService
    ):
        headers = await verified_resident(intake, database, "karl@example.org", "de")
        await register(intake, headers, "android", ANDROID)
        await resolve(intake, headers)
        await loop.run_once()
        [fcm] = push.to(ANDROID)
        assert fcm.body["message"]["notification"]["title"].startswith("Meldung WRO-")
        assert "in Bearbeitung" in fcm.body["message"]["notification"]["body"]

    async def test_an_unverified_address_gets_no_mail(
        self, intake, database, loop, smtp
    ):
        headers = await register_and_sign_in(intake, "new@example.org", verified=False)
        await resolve(intake, headers)
        assert await loop.run_once() == 0
        assert smtp[0].messages == []

    async def test_a_failing_channel_is_retried_and_never_holds_back_the_others(
        self, intake, database, loop, push: PushService, smtp
    ):
        inbox: Inbox = smtp[0]
        inbox.fail_next = 1
        push.failures[ANDROID] = [503]
        headers = await verified_resident(intake, database)
        await register(intake, headers, "android", ANDROID)
        await register(intake, headers, "ios", IPHONE)
        await resolve(intake, headers)

        before = utcnow()
        await loop.run_once()
        assert len(push.to(IPHONE)) == 1
        waiting = [d for d in await deliveries(database) if d.status == "pending"]
        assert sorted(d.channel for d in waiting) == ["email", "push"]
        # FCM said Retry-After: 120, so its retry is not sooner.
        push_retry = next(d for d in waiting if d.channel == "push")
        assert push_retry.next_attempt_at >= before + dt.timedelta(seconds=119)
        assert (push_retry.last_error or "").startswith("HTTP 503")

        await make_due(database)
        await loop.run_once()
        assert len(push.to(ANDROID)) == 1
        assert len(inbox.messages) == 1
        assert {d.status for d in await deliveries(database)} == {"sent"}

    async def test_an_uninstalled_app_loses_its_device_and_is_not_retried(
        self, intake, database, loop, push: PushService
    ):
        push.gone.add(ANDROID)
        headers = await verified_resident(intake, database)
        await register(intake, headers, "android", ANDROID)
        await resolve(intake, headers)
        await loop.run_once()
        [delivery] = [d for d in await deliveries(database) if d.channel == "push"]
        assert delivery.status == "dead"
        assert (await intake.get("/v1/me/devices", headers=headers)).json() == []

    async def test_after_the_budget_a_delivery_is_dead_and_kept(
        self, intake, database, loop, push: PushService
    ):
        push.failures[ANDROID] = [503]
        headers = await verified_resident(intake, database)
        await register(intake, headers, "android", ANDROID)
        await resolve(intake, headers)
        async with database() as session:
            await session.execute(
                update(NotificationDelivery).values(
                    created_at=utcnow() - dt.timedelta(hours=2)
                )
            )
            await session.commit()
        await loop.run_once()
        [delivery] = [d for d in await deliveries(database) if d.channel == "push"]
        assert (delivery.status, delivery.attempts) == ("dead", 1)

    async def test_google_refusing_the_token_leaves_pushes_waiting_not_dead(
        self, intake, database, loop, push: PushService
    ):
        push.token_failures = [400]  # e.g. the server's clock off for a while
        headers = await verified_resident(intake, database)
        await register(intake, headers, "android", ANDROID)
        await resolve(intake, headers)
        await loop.run_once()
        [delivery] = [d for d in await deliveries(database) if d.channel == "push"]
        assert delivery.status == "pending"
        assert (delivery.last_error or "").startswith("token: HTTP 400")
        await make_due(database)
        await loop.run_once()
        assert len(push.to(ANDROID)) == 1

    async def test_a_long_unit_note_is_cut_for_a_push_and_whole_in_a_mail(
        self, intake, database, loop, push: PushService, smtp
    ):
        inbox: Inbox = smtp[0]
        headers = await verified_resident(intake, database)
        await register(intake, headers, "android", ANDROID)
        report = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        note = "Wymiana całego odcinka nawierzchni. " * 100  # 3700 characters
        body, signed = status_event(
            report.json()["id"], ReportStatus.IN_PROGRESS, 1, note=note.strip()
        )
        await intake.post("/internal/events", content=body, headers=signed)
        await loop.run_once()
        [sent] = push.to(ANDROID)
        text = sent.body["message"]["notification"]["body"]
        assert len(text) <= 1000
        assert text.endswith("…")
        [mail] = inbox.messages
        assert note.strip() in " ".join(mail.get_content().split())

    async def test_the_question_after_closing_stands_beside_the_status_push(
        self, intake, database, loop, push: PushService
    ):
        headers = await verified_resident(intake, database)
        await register(intake, headers, "android", ANDROID)
        report = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        report_id = report.json()["id"]
        body, signed = status_event(report_id, ReportStatus.RESOLVED, 1)
        await intake.post("/internal/events", content=body, headers=signed)
        await loop.run_once()
        keys = sorted(
            r.body["message"]["android"]["collapse_key"] for r in push.to(ANDROID)
        )
        assert keys == [f"feedback_requested-{report_id}", f"report-{report_id}"]

    async def test_a_handed_on_phone_gets_none_of_its_old_owners_news(
        self, intake, database, loop, push: PushService
    ):
        anna = await verified_resident(intake, database)
        await register(intake, anna, "android", ANDROID)
        await resolve(intake, anna)  # queued for Anna's phone
        ewa = await verified_resident(intake, database, "ewa@example.org")
        await register(intake, ewa, "android", ANDROID)  # she has the phone now
        await loop.run_once()
        assert push.to(ANDROID) == []
        [delivery] = [d for d in await deliveries(database) if d.channel == "push"]
        assert delivery.status == "dead"

    async def test_channels_the_resident_turned_off_are_not_used(
        self, intake, database, loop, push: PushService, smtp
    ):
        headers = await verified_resident(intake, database)
        await register(intake, headers, "android", ANDROID)
        async with database() as session:
            await session.execute(
                update(Account).values(notify_push=False, notify_email=False)
            )
            await session.commit()
        await resolve(intake, headers)
        assert await loop.run_once() == 0
        feed = (await intake.get("/v1/me/notifications", headers=headers)).json()
        assert feed["unread_count"] == 1


class TestDevices:
    async def test_register_list_and_remove(self, intake, database):
        anna = await verified_resident(intake, database)
        first = await register(intake, anna, "android", ANDROID)
        again = await register(intake, anna, "android", ANDROID)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        listed = (await intake.get("/v1/me/devices", headers=anna)).json()
        assert [d["platform"] for d in listed] == ["android"]
        assert "token" not in listed[0]
        removed = await intake.delete(
            f"/v1/me/devices/{first.json()['id']}", headers=anna
        )
        assert removed.status_code == 204
        assert (await intake.get("/v1/me/devices", headers=anna)).json() == []

    async def test_a_token_moves_to_whoever_registers_it_last(self, intake, database):
        anna = await verified_resident(intake, database)
        ewa = await verified_resident(intake, database, "ewa@example.org")
        device = (await register(intake, anna, "android", ANDROID)).json()
        assert (await register(intake, ewa, "android", ANDROID)).status_code == 200
        assert (await intake.get("/v1/me/devices", headers=anna)).json() == []
        mine = (await intake.get("/v1/me/devices", headers=ewa)).json()
        assert [d["id"] for d in mine] == [device["id"]]

    async def test_another_residents_device_is_not_found(self, intake, database):
        anna = await verified_resident(intake, database)
        ewa = await verified_resident(intake, database, "ewa@example.org")
        device = (await register(intake, anna, "ios", IPHONE)).json()
        response = await intake.delete(f"/v1/me/devices/{device['id']}", headers=ewa)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        async with database() as session:
            assert await session.get(Device, uuid.UUID(device["id"]))

    async def test_devices_need_a_token_and_a_known_platform(self, intake, database):
        assert (await intake.get("/v1/me/devices")).status_code == 401
        anna = await verified_resident(intake, database)
        bad = await register(intake, anna, "symbian", ANDROID)
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == ["platform"]


async def test_a_nul_in_a_device_token_is_a_field_error(intake, database):
    anna = await verified_resident(intake, database)
    response = await register(intake, anna, "android", "abc\x00defghijk")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["token"]


async def test_the_same_token_registered_at_once_gives_one_device(intake, database):
    anna = await verified_resident(intake, database)
    answers = await asyncio.gather(
        *(register(intake, anna, "android", ANDROID) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
