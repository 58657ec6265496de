"""The adapter's background loops: the case pusher, the forwarder of reporters' reopens and
comments, the outbox relay to intake, and the purge of handled inbox rows."""

from __future__ import annotations

import datetime as dt

import httpx

from crm_adapter.cases.forwarder import ActionForwarder
from crm_adapter.cases.pusher import CasePusher
from crm_adapter.cases.service import FORWARDER, PUSHER
from crm_adapter.config import Settings
from crm_adapter.crm.connector import CrmConnector
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.db import OutboxEvent
from crm_adapter.webhooks.retention import PURGE_INTERVAL_SECONDS, InboxPurge
from shared.outbox import RELAY, OutboxRelay
from shared.runtime import Runtime, StartLoops
from shared.signing import Signer


def connectors(
    settings: Settings, client: httpx.AsyncClient
) -> dict[str, CrmConnector]:
    """The CRM connectors by name, as units refer to them in the routing table."""
    rest = RestJsonConnector(
        client=client,
        base_url=settings.crm_url,
        api_key=settings.crm_api_key.get_secret_value(),
        timeout=settings.crm_timeout_seconds,
    )
    return {rest.name: rest}


def loops(settings: Settings) -> StartLoops:
    def start(runtime: Runtime) -> None:
        crm = connectors(settings, runtime.client)
        lease = dt.timedelta(seconds=settings.case_lease_seconds)
        pusher = CasePusher(
            sessionmaker=runtime.sessionmaker,
            connectors=crm,
            backoff=settings.backoff(),
            lease=lease,
            breaker_policy=settings.breaker_policy(),
        )
        forwarder = ActionForwarder(
            sessionmaker=runtime.sessionmaker,
            connectors=crm,
            backoff=settings.backoff(),
            lease=lease,
            breaker_policy=settings.breaker_policy(),
        )
        relay = OutboxRelay(
            sessionmaker=runtime.sessionmaker,
            model=OutboxEvent,
            client=runtime.client,
            url=settings.intake_url.rstrip("/") + "/internal/events",
            signer=Signer(settings.intake_secret.get_secret_value()),
            backoff=settings.backoff(),
        )
        interval = settings.poll_seconds
        runtime.loops.start(
            "adapter.cases",
            pusher.run_once,
            wakeup=runtime.wakeups.event(PUSHER),
            interval=interval,
        )
        runtime.loops.start(
            "adapter.case_actions",
            forwarder.run_once,
            wakeup=runtime.wakeups.event(FORWARDER),
            interval=interval,
        )
        runtime.loops.start(
            "adapter.outbox",
            relay.run_once,
            wakeup=runtime.wakeups.event(RELAY),
            interval=interval,
        )
        purge = InboxPurge(
            sessionmaker=runtime.sessionmaker,
            keep=dt.timedelta(days=settings.inbox_retention_days),
        )
        runtime.loops.start(
            "adapter.inbox_purge",
            purge.run_once,
            wakeup=runtime.wakeups.event("inbox_purge"),
            interval=PURGE_INTERVAL_SECONDS,
        )

    return start
