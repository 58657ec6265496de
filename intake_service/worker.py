"""Intake's background loops: the outbox relay to the CRM adapter."""

from __future__ import annotations

from intake_service.config import Settings
from intake_service.db import OutboxEvent
from shared.outbox import RELAY, OutboxRelay
from shared.runtime import Runtime, StartLoops
from shared.signing import Signer


def loops(settings: Settings) -> StartLoops:
    def start(runtime: Runtime) -> None:
        relay = OutboxRelay(
            sessionmaker=runtime.sessionmaker,
            model=OutboxEvent,
            client=runtime.client,
            url=settings.adapter_url.rstrip("/") + "/internal/events",
            signer=Signer(settings.adapter_secret.get_secret_value()),
            backoff=settings.backoff(),
        )
        runtime.loops.start(
            "intake.outbox",
            relay.run_once,
            wakeup=runtime.wakeups.event(RELAY),
            interval=settings.poll_seconds,
        )

    return start
