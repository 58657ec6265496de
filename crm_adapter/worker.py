"""The adapter's background loops: the case pusher, the forwarder of reporters' reopens and
comments, the teller of cases held up, the outbox relay to intake, a poller per CRM connector
that is polled, and the purge of handled inbox rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from crm_adapter.cases.service import FORWARDER, PUSHER
from crm_adapter.config import Settings
from crm_adapter.crm.configured import connectors, poll_intervals
from crm_adapter.crm.connector import CrmConnector, PollingConnector
from crm_adapter.db import OutboxEvent
from crm_adapter.deliveries.delays import DELAYS, DelayTeller, check_every
from crm_adapter.deliveries.forwarder import ActionForwarder
from crm_adapter.deliveries.pusher import CasePusher
from crm_adapter.statuses.polling import Poller
from crm_adapter.webhooks.retention import PURGE_INTERVAL_SECONDS, InboxPurge
from shared.relay import start_relay
from shared.runtime import Runtime, StartLoops

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
    _start_deliveries(runtime, settings, crm)
    start_relay(
        runtime,
        settings,
        name="adapter.outbox",
        model=OutboxEvent,
        url=settings.intake_url.rstrip("/") + "/internal/events",
        secret=settings.intake_secret.get_secret_value(),
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
    _start_pollers(runtime, settings, crm)


def _start_deliveries(
    runtime: Runtime, settings: Settings, crm: Mapping[str, CrmConnector]
) -> None:
    """The case pusher, the forwarder of reopens and comments, and the loop telling
    residents of cases held up."""
    loops = (
        ("adapter.cases", CasePusher, PUSHER),
        ("adapter.case_actions", ActionForwarder, FORWARDER),
    )
    for name, kind, wakeup in loops:
        loop = kind(
            sessionmaker=runtime.sessionmaker,
            connectors=crm,
            backoff=settings.backoff(),
            lease=dt.timedelta(seconds=settings.case_lease_seconds),
            attempt_timeout=settings.case_attempt_timeout_seconds,
            breaker_policy=settings.breaker_policy(),
        )
        runtime.loops.start(
            name,
            loop.run_once,
            wakeup=runtime.wakeups.event(wakeup),
            interval=settings.poll_seconds,
            batch=loop.batch_size,
        )
    teller = DelayTeller(
        sessionmaker=runtime.sessionmaker, notice_after=settings.delay_notice()
    )
    runtime.loops.start(
        "adapter.delays",
        teller.run_once,
        wakeup=runtime.wakeups.event(DELAYS),
        interval=check_every(settings.delay_notice(), settings.poll_seconds),
        batch=teller.batch_size,
    )


def _start_pollers(
    runtime: Runtime, settings: Settings, crm: Mapping[str, CrmConnector]
) -> None:
    """A poller for each connector that is polled."""
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
