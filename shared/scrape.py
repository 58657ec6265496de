"""What both services' `/metrics` are made of: figures read from the database at the scrape
(every replica gives the same), among them each service's outbox and inbox backlog, rendered
together with what the process counts itself.

An outbox event is `pending` from its commit until the other service took it (queued,
being sent, or waiting out a retry) and `dead` once its retry budget ran out; an inbox
message is unhandled while its cause waits for an operator (RELIABILITY §1.6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.inbox import InboxMixin
from shared.outbox import DEAD, IN_FLIGHT, PENDING, OutboxMixin


class Snapshot(Collector):
    """Metric families read before the scrape is rendered."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def render(*sources: Collector | CollectorRegistry) -> bytes:
    """The text exposition of every source: a collector, or a registry of the process's."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Snapshot(family for s in sources for family in s.collect()))
    return generate_latest(registry)


def age(since: dt.datetime | None, now: dt.datetime) -> float:
    """Seconds from `since` to `now`; 0 without a `since` (nothing waits)."""
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


async def outbox_families(
    session: AsyncSession,
    model: type[OutboxMixin],
    *,
    prefix: str,
    receiver: str,
    now: dt.datetime,
) -> list[Metric]:
    """`<prefix>_outbox_events{state}` and `<prefix>_outbox_oldest_pending_age_seconds`."""
    # ix_outbox_events_status: only the unsent rows are read, never the sent ones (kept).
    unsent = (PENDING, IN_FLIGHT, DEAD)
    rows = await session.execute(
        select(model.status, func.count())
        .where(model.status.in_(unsent))
        .group_by(model.status)
    )
    counted = dict(rows.all())
    oldest = await session.scalar(
        select(func.min(model.created_at)).where(model.status.in_((PENDING, IN_FLIGHT)))
    )
    events = GaugeMetricFamily(
        f"{prefix}_outbox_events",
        f"Events for {receiver} not yet taken by it: pending (queued, being sent or "
        "waiting out a retry) or dead (its retry budget spent; it also holds its "
        "report's later events).",
        labels=["state"],
    )
    events.add_metric([PENDING], counted.get(PENDING, 0) + counted.get(IN_FLIGHT, 0))
    events.add_metric([DEAD], counted.get(DEAD, 0))
    oldest_age = GaugeMetricFamily(
        f"{prefix}_outbox_oldest_pending_age_seconds",
        f"Seconds since the oldest event pending for {receiver} was written; 0 when "
        "none is pending. It grows while the receiver is away or a dead event holds a "
        "report's later ones.",
        value=age(oldest, now),
    )
    return [events, oldest_age]


async def inbox_families(
    session: AsyncSession,
    model: type[InboxMixin],
    *,
    prefix: str,
    sources: Iterable[str],
    now: dt.datetime,
) -> list[Metric]:
    """`<prefix>_inbox_unhandled{source}` (each of `sources` appears, with 0 if need be) and
    `<prefix>_inbox_oldest_unhandled_age_seconds`.

    Both read the rows with no `handled_at`: a partial index of just those (as the
    adapter's `ix_inbox_messages_unhandled`) keeps it to the few waiting; without one the
    whole inbox is read.
    """
    unhandled = model.handled_at.is_(None)
    rows = await session.execute(
        select(model.source, func.count()).where(unhandled).group_by(model.source)
    )
    counted = dict(rows.all())
    oldest = await session.scalar(select(func.min(model.received_at)).where(unhandled))
    family = GaugeMetricFamily(
        f"{prefix}_inbox_unhandled",
        "Messages stored but not acted on, by source: each is kept with its error in "
        "the inbox for an operator to replay, never purged.",
        labels=["source"],
    )
    for source in sorted({*sources, *counted}):
        family.add_metric([source], counted.get(source, 0))
    oldest_age = GaugeMetricFamily(
        f"{prefix}_inbox_oldest_unhandled_age_seconds",
        "Seconds since the oldest message not acted on arrived; 0 when every one was.",
        value=age(oldest, now),
    )
    return [family, oldest_age]
