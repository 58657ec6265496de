"""The adapter's background loops: the case pusher, the forwarder of reporters' reopens and
comments, the outbox relay to intake, a poller per CRM connector that is polled, and the
purge of handled inbox rows."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.cases.forwarder import ActionForwarder
from crm_adapter.cases.pusher import CasePusher
from crm_adapter.cases.service import FORWARDER, PUSHER
from crm_adapter.config import Settings
from crm_adapter.crm.connector import CrmConnector, PollingConnector
from crm_adapter.crm.open311 import DatabaseTokens, Open311Connector
from crm_adapter.crm.photos import PhotoLinks
from crm_adapter.crm.polling import Poller
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.db import OutboxEvent
from crm_adapter.webhooks.retention import PURGE_INTERVAL_SECONDS, InboxPurge
from shared.outbox import RELAY, OutboxRelay
from shared.runtime import Runtime, StartLoops
from shared.signing import Signer

POLL_RETRY_SECONDS = 300.0
"""The longest a poller waits before it looks again: a failed daily sweep is retried after
this, and a sweep is due this long at most after its day is up."""


def connectors(
    settings: Settings,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> dict[str, CrmConnector]:
    """The CRM connectors by name, as units refer to them in the routing table."""
    photo_links = PhotoLinks(
        intake_url=settings.intake_public_url,
        secret=settings.photo_url_secret.get_secret_value(),
        ttl=settings.photo_url_ttl(),
    )
    rest = RestJsonConnector(
        client=client,
        base_url=settings.crm_url,
        api_key=settings.crm_api_key.get_secret_value(),
        timeout=settings.crm_timeout_seconds,
        photo_links=photo_links,
    )
    open311 = Open311Connector(
        client=client,
        base_url=settings.open311_url,
        tokens=DatabaseTokens(sessionmaker),
        api_key=settings.open311_api_key.get_secret_value()
        if settings.open311_api_key
        else None,
        jurisdiction_id=settings.open311_jurisdiction_id,
        fmt=settings.open311_format,
        timeout=settings.open311_timeout_seconds,
        service_codes=settings.open311_service_codes,
        photo_links=photo_links,
        token_polls=settings.open311_token_polls,
        token_poll_seconds=settings.open311_token_poll_seconds,
        poll_source=settings.open311_poll_source,
        poll_overlap=dt.timedelta(seconds=settings.open311_poll_overlap_seconds),
    )
    return {rest.name: rest, open311.name: open311}


def poll_intervals(settings: Settings) -> dict[str, float]:
    """The connectors polled, with their intervals (seconds)."""
    polled = {
        RestJsonConnector.name: (settings.crm_poll, settings.crm_poll_seconds),
        Open311Connector.name: (settings.open311_poll, settings.open311_poll_seconds),
    }
    intervals = {name: seconds for name, (on, seconds) in polled.items() if on}
    if not settings.crm_poll and settings.crm_reconcile_hours > 0:
        # Webhooks are the REST JSON CRM's primary path; a daily read backs them up.
        intervals[RestJsonConnector.name] = settings.crm_reconcile_hours * 3600
    return intervals


def loops(settings: Settings) -> StartLoops:
    def start(runtime: Runtime) -> None:
        crm = connectors(settings, runtime.client, runtime.sessionmaker)
        lease = dt.timedelta(seconds=settings.case_lease_seconds)
        pusher = CasePusher(
            sessionmaker=runtime.sessionmaker,
            connectors=crm,
            backoff=settings.backoff(),
            lease=lease,
            attempt_timeout=settings.case_attempt_timeout_seconds,
            breaker_policy=settings.breaker_policy(),
        )
        forwarder = ActionForwarder(
            sessionmaker=runtime.sessionmaker,
            connectors=crm,
            backoff=settings.backoff(),
            lease=lease,
            attempt_timeout=settings.case_attempt_timeout_seconds,
            breaker_policy=settings.breaker_policy(),
        )
        relay = OutboxRelay(
            sessionmaker=runtime.sessionmaker,
            model=OutboxEvent,
            client=runtime.client,
            url=settings.intake_url.rstrip("/") + "/internal/events",
            signer=Signer(settings.intake_secret.get_secret_value()),
            backoff=settings.backoff(),
            lease=dt.timedelta(seconds=settings.relay_lease_seconds),
            attempt_timeout=settings.relay_timeout_seconds,
            probe_every=dt.timedelta(seconds=settings.relay_probe_seconds),
            wakeup=runtime.wakeups.event(RELAY),
        )
        interval = settings.poll_seconds
        runtime.loops.start(
            "adapter.cases",
            pusher.run_once,
            wakeup=runtime.wakeups.event(PUSHER),
            interval=interval,
            batch=pusher.batch_size,
        )
        runtime.loops.start(
            "adapter.case_actions",
            forwarder.run_once,
            wakeup=runtime.wakeups.event(FORWARDER),
            interval=interval,
            batch=forwarder.batch_size,
        )
        runtime.loops.start(
            "adapter.outbox",
            relay.run_once,
            wakeup=runtime.wakeups.event(RELAY),
            interval=interval,
            batch=relay.batch_size,
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
        for name, seconds in poll_intervals(settings).items():
            connector = crm[name]
            if isinstance(connector, PollingConnector):
                # A sweep that failed is tried again within minutes, not a day later.
                wake = min(seconds, POLL_RETRY_SECONDS)
                poller = Poller(
                    sessionmaker=runtime.sessionmaker,
                    connector=connector,
                    every=dt.timedelta(seconds=seconds) if seconds > wake else None,
                )
                runtime.loops.start(
                    f"adapter.poll.{name}",
                    poller.run_once,
                    wakeup=runtime.wakeups.event(f"poll.{name}"),
                    interval=wake,
                )

    return start
