"""Intake's background loops: the outbox relay to the CRM adapter, notification delivery and
the fetching of Open311 requests' photos."""

from __future__ import annotations

import httpx

from intake_service.config import Settings
from intake_service.db import OutboxEvent
from intake_service.notifications.channels import (
    ApnsSender,
    EmailSender,
    FcmSender,
    LogPushSender,
    PushSender,
)
from intake_service.notifications.delivery import DeliveryLoop
from intake_service.notifications.models import Platform
from intake_service.notifications.service import DELIVERIES
from intake_service.open311.media_fetch import start_media_fetch
from shared.relay import start_relay
from shared.runtime import HTTP_TIMEOUT, Runtime, StartLoops, tls_context


def push_senders(
    settings: Settings, client: httpx.AsyncClient, http2: httpx.AsyncClient
) -> dict[Platform, PushSender]:
    """A sender per platform: FCM and APNs where configured, a log otherwise."""
    fcm: PushSender = LogPushSender()
    if settings.push_fcm_credentials_file is not None:
        fcm = FcmSender(
            client,
            credentials_file=settings.push_fcm_credentials_file,
            base_url=settings.push_fcm_url,
        )
    ios = fcm
    apns = (
        settings.push_apns_key_file,
        settings.push_apns_key_id,
        settings.push_apns_team_id,
        settings.push_apns_topic,
    )
    key_file, key_id, team_id, topic = apns
    if key_file is not None and key_id and team_id and topic:
        ios = ApnsSender(
            http2,
            key_file=key_file,
            key_id=key_id,
            team_id=team_id,
            topic=topic,
            base_url=settings.push_apns_url,
        )
    return {Platform.ANDROID: fcm, Platform.WEB: fcm, Platform.IOS: ios}


def loops(settings: Settings) -> StartLoops:
    def start(runtime: Runtime) -> None:
        start_relay(
            runtime,
            settings,
            name="intake.outbox",
            model=OutboxEvent,
            url=settings.adapter_url.rstrip("/") + "/internal/events",
            secret=settings.adapter_secret.get_secret_value(),
        )
        # APNs speaks HTTP/2 only.
        http2 = httpx.AsyncClient(
            http2=True, timeout=HTTP_TIMEOUT, verify=tls_context()
        )
        runtime.closing.append(http2.aclose)
        deliveries = DeliveryLoop(
            sessionmaker=runtime.sessionmaker,
            push=push_senders(settings, runtime.client, http2),
            email=EmailSender(settings.mailer(), settings.mail_from),
            backoff=settings.backoff(),
        )
        runtime.loops.start(
            "intake.notifications",
            deliveries.run_once,
            wakeup=runtime.wakeups.event(DELIVERIES),
            interval=settings.poll_seconds,
            batch=deliveries.batch_size,
        )
        start_media_fetch(runtime, settings)

    return start
