"""The adapter's background loops: the case pusher, the forwarder of reporters' reopens and
comments, the outbox relay to intake, a poller per CRM connector that is polled, and the
purge of handled inbox rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from crm_adapter.cases.service import FORWARDER, PUSHER
from crm_adapter.config import Settings
from crm_adapter.crm.configured import connectors, poll_intervals
from crm_adapter.crm.connector import CrmConnector, PollingConnector
from crm_adapter.db import OutboxEvent
from crm_adapter.deliveries.forwarder import ActionForwarder
from crm_adapter.deliveries.pusher import CasePusher
from crm_adapter.statuses.polling import Poller
from crm_adapter.webhooks.retention import PURGE_INTERVAL_SECONDS, InboxPurge
from shared.outbox import RELAY, OutboxRelay
from shared.runtime import Runtime, StartLoops
from shared.signing import Signer

POLL_RETRY_SECONDS = 300.0
"""The longest a poller waits before it looks again: a failed daily sweep is retried after
this, and a sweep is due this long at most after its day is up."""


def loops(settings: Settings) -> StartLoops:
    """The loops of a worker process (`python -m crm_adapter worker`), with its connectors."""

    def start(runtime: Runtime) -> None:
        crm = connectors(settings, runtime.client, runtime.sessionmaker)
        start_loops(runtime, settings, crm)

    return start


def start_loops(
    runtime: Runtime, settings: Settings, crm: Mapping[str, CrmConnector]
) -> None:
    """Start the loops in `runtime`, calling the CRMs through `crm` (the process's connectors)."""
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
