"""Intake's figures counted from its database at each scrape: the same from every replica,
and nothing lost on a restart (unlike the process's own figures beside them)."""

from __future__ import annotations

import datetime as dt

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db import InboxMessage, OutboxEvent
from intake_service.monitoring import repository
from intake_service.notifications.models import Channel, DeliveryStatus
from shared.scrape import inbox_families, outbox_families

PREFIX = "mam_intake"

INBOX_SOURCES = ("adapter",)
"""Who sends intake messages: each appears in the inbox figure, with 0 if need be."""


async def database_families(session: AsyncSession, *, now: dt.datetime) -> list[Metric]:
    # Intake's inbox has no index of its unhandled rows: those two figures read it whole.
    return [
        await reports_family(session),
        *await outbox_families(
            session, OutboxEvent, prefix=PREFIX, receiver="the adapter", now=now
        ),
        *await inbox_families(
            session, InboxMessage, prefix=PREFIX, sources=INBOX_SOURCES, now=now
        ),
        *await notification_families(session),
    ]


async def reports_family(session: AsyncSession) -> CounterMetricFamily:
    """Reports filed, by category and channel; every pair appears, with 0 if need be."""
    family = CounterMetricFamily(
        f"{PREFIX}_reports",
        "Reports filed, by category and channel (`app`: the residents' API, `open311`: "
        "Open311 clients), counted from the database: the same on every replica and "
        "across restarts.",
        labels=["category", "channel"],
    )
    counted = await repository.reports_by_category(session)
    categories = {*await repository.category_codes(session)}
    categories |= {category for category, _ in counted}
    for category in sorted(categories):
        for channel in CHANNELS:
            family.add_metric([category, channel], counted.get((category, channel), 0))
    return family


CHANNELS = ("app", "open311")


WAITING = {
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.IN_FLIGHT: "pending",
    DeliveryStatus.DEAD: "dead",
}
"""The state a delivery in each status counts under while it is not sent."""
NOT_FAILED = (DeliveryStatus.SENT, DeliveryStatus.IN_FLIGHT)


async def notification_families(session: AsyncSession) -> list[GaugeMetricFamily]:
    """Push and e-mail deliveries waiting or dead, and the attempts made at them."""
    waiting = GaugeMetricFamily(
        f"{PREFIX}_notification_deliveries",
        "Notifications on their way to residents by channel (push, email): pending "
        "(queued, being sent or waiting out a retry) or dead (the address is gone, or the "
        "retry budget ran out; kept, never retried).",
        labels=["channel", "state"],
    )
    attempts = GaugeMetricFamily(
        f"{PREFIX}_notification_attempts",
        "Attempts at sending notifications by channel and outcome (sent: the one that "
        "delivered; failed: any other that ended, a dead delivery's last one included), "
        "counted from the database: a running total, which falls only when an erased "
        "account's notifications go with it (read it with delta()).",
        labels=["channel", "outcome"],
    )
    states: dict[tuple[str, str], int] = {}
    outcomes: dict[tuple[str, str], int] = {}
    for row in await repository.deliveries_by_channel(session):
        status, channel = DeliveryStatus(row.status), row.channel
        if (state := WAITING.get(status)) is not None:
            states[channel, state] = states.get((channel, state), 0) + row.deliveries
        # Each sent delivery's last attempt succeeded and each in-flight one's is under
        # way: every other attempt failed.
        not_failed = row.deliveries if status in NOT_FAILED else 0
        if status is DeliveryStatus.SENT:
            outcomes[channel, "sent"] = row.deliveries
        failed = outcomes.get((channel, "failed"), 0) + row.attempts - not_failed
        outcomes[channel, "failed"] = failed
    channels = sorted({c.value for c in Channel} | {c for c, _ in states | outcomes})
    for channel in channels:
        for state in ("pending", "dead"):
            waiting.add_metric([channel, state], states.get((channel, state), 0))
        for outcome in ("sent", "failed"):
            attempts.add_metric([channel, outcome], outcomes.get((channel, outcome), 0))
    return [waiting, attempts]
