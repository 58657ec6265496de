"""GET /metrics: the adapter's cases in the Prometheus text format, read from the database.

Every figure is counted from the database when scraped, so every replica answers the same
and nothing is lost on a restart; no process keeps counters of its own. The endpoint needs
no key, like `/healthz`: it tells counts per state, status and unit, nothing about a report,
and sits behind the same network rules as the rest of the operations endpoints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import CaseState
from crm_adapter.deliveries import breaker
from crm_adapter.deliveries import repository as deliveries
from crm_adapter.deliveries.models import DeliveryKind
from crm_adapter.deliveries.operations import configured, polled
from crm_adapter.monitoring import repository
from shared.db import utcnow
from shared.deps import SessionDep
from shared.routes import Router

router = Router(tags=["operations"])

NO_UNIT = ""
"""The `unit` label of cases no route took."""


class _Snapshot(Collector):
    """Metric families read before the scrape is rendered."""

    def __init__(self, families: Iterable[GaugeMetricFamily]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return iter(self._families)


async def case_families(
    session: AsyncSession, *, now: dt.datetime
) -> list[GaugeMetricFamily]:
    """The cases' gauges; every known unit and delivery state appears, with 0 if need be."""
    units = await repository.unit_codes(session)

    by_state = GaugeMetricFamily(
        "mam_adapter_cases",
        "Cases by delivery state (pending, created, unroutable, dead) and canonical status.",
        labels=["state", "status"],
    )
    for state, status, count in sorted(
        await repository.count_by_state_and_status(session)
    ):
        by_state.add_metric([state, status], count)

    open_cases = GaugeMetricFamily(
        "mam_adapter_cases_open",
        "Cases neither resolved nor rejected, by responsible unit.",
        labels=["unit"],
    )
    overdue = GaugeMetricFamily(
        "mam_adapter_cases_overdue",
        "Open cases past their due time, by responsible unit.",
        labels=["unit"],
    )
    counted = {
        unit or NO_UNIT: (n, late)
        for unit, n, late in await repository.open_by_unit(session, now=now)
    }
    for unit in sorted({*units, *counted}):
        n, late = counted.get(unit, (0, 0))
        open_cases.add_metric([unit], n)
        overdue.add_metric([unit], late)

    dead = GaugeMetricFamily(
        "mam_adapter_dead_deliveries",
        f"Cases in state {CaseState.DEAD.value!r} (refused by the CRM, or out of "
        "retries), waiting for an operator to replay them, by unit.",
        labels=["unit"],
    )
    dead_counts = {
        unit or NO_UNIT: n for unit, n in await repository.dead_by_unit(session)
    }
    for unit in sorted({*units, *dead_counts}):
        dead.add_metric([unit], dead_counts.get(unit, 0))
    return [by_state, open_cases, overdue, dead]


BREAKER_VALUES = {
    breaker.BreakerState.CLOSED: 0.0,
    breaker.BreakerState.HALF_OPEN: 0.5,
    breaker.BreakerState.OPEN: 1.0,
}
"""The value of `mam_adapter_breaker_state` for each state."""

NO_CONNECTOR = ""
"""The `connector` label of deliveries with no connector."""


async def delivery_families(
    session: AsyncSession,
    *,
    now: dt.datetime,
    connectors: Iterable[str],
    polled: Mapping[str, float],
) -> list[GaugeMetricFamily]:
    """The deliveries', breakers' and pollers' gauges; every configured connector appears
    in each (each kind and state too), with 0 if need be."""
    names = set(connectors)
    return [
        await _waiting_family(session, names),
        await _oldest_due_family(session, names, now=now),
        await _breaker_family(session, names, now=now),
        *await _poll_families(session, polled, now=now),
    ]


async def _waiting_family(session: AsyncSession, names: set[str]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "mam_adapter_deliveries",
        "Deliveries to the CRMs waiting (pending: queued or retrying) or dead (held for an "
        "operator to replay), by connector and kind (create: a case's creation; reopen, "
        "comment, erase_contact: residents' actions).",
        labels=["connector", "kind", "state"],
    )
    counted = {
        (c or NO_CONNECTOR, k, s): n
        for c, k, s, n in await deliveries.count_waiting(session)
    }
    for connector, kind, state in sorted(
        {
            (c, k.value, s)
            for c in names
            for k in DeliveryKind
            for s in ("pending", "dead")
        }
        | counted.keys()
    ):
        family.add_metric(
            [connector, kind, state], counted.get((connector, kind, state), 0)
        )
    return family


async def _oldest_due_family(
    session: AsyncSession, names: set[str], *, now: dt.datetime
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "mam_adapter_oldest_due_delivery_age_seconds",
        "Per connector, how long the delivery waiting longest since it became due (a "
        "creation, or an action whose case is in the CRM and whose earlier actions are "
        "done) has waited to be sent; 0 when none is due. It grows while the connector's "
        "breaker is open or nothing sends.",
        labels=["connector"],
    )
    due = {
        c or NO_CONNECTOR: t
        for c, t in (await deliveries.oldest_due(session, now=now)).items()
    }
    for connector in sorted(names | due.keys()):
        since = due.get(connector)
        family.add_metric(
            [connector], max(0.0, (now - since).total_seconds()) if since else 0.0
        )
    return family


async def _breaker_family(
    session: AsyncSession, names: set[str], *, now: dt.datetime
) -> GaugeMetricFamily:
    breakers = await deliveries.breakers(session)
    family = GaugeMetricFamily(
        "mam_adapter_breaker_state",
        "Each connector's circuit breaker: 0 closed (deliveries go), 0.5 half-open (the "
        "next due delivery is a probe), 1 open (nothing is sent).",
        labels=["connector"],
    )
    for connector in sorted(names | breakers.keys()):
        value = BREAKER_VALUES[breaker.state_of(breakers.get(connector), now)]
        family.add_metric([connector], value)
    return family


async def _poll_families(
    session: AsyncSession, polled: Mapping[str, float], *, now: dt.datetime
) -> list[GaugeMetricFamily]:
    cursors = await deliveries.poll_cursors(session)
    poll_age = GaugeMetricFamily(
        "mam_adapter_poll_success_age_seconds",
        "Per connector polled for status changes, seconds since a poll last read its "
        "changes to their end; +Inf when none has yet, absent before its first run.",
        labels=["connector"],
    )
    poll_interval = GaugeMetricFamily(
        "mam_adapter_poll_interval_seconds",
        "Per connector polled, how often its changes are read (a day for a CRM whose "
        "webhooks bring them): an alert on the age above compares with this.",
        labels=["connector"],
    )
    for connector in sorted(polled):
        poll_interval.add_metric([connector], polled[connector])
        cursor = cursors.get(connector)
        if cursor is None or cursor.last_run_at is None:
            continue
        poll_age.add_metric(
            [connector],
            (now - cursor.last_success_at).total_seconds()
            if cursor.last_success_at
            else float("inf"),
        )
    return [poll_age, poll_interval]


async def inbox_family(session: AsyncSession) -> GaugeMetricFamily:
    """Messages received but not handled, by source: an event of intake the adapter could
    not act on (a reopen of a report it has no case of). A CRM's change is always handled:
    one about a case that is not ours is acknowledged and left alone."""
    family = GaugeMetricFamily(
        "mam_adapter_inbox_unhandled",
        "Messages stored but not acted on, by source (`intake`): each is kept with its "
        "error in the inbox for an operator, never purged.",
        labels=["source"],
    )
    for source, count in await repository.unhandled_by_source(session):
        family.add_metric([source], count)
    return family


async def render(
    session: AsyncSession,
    *,
    now: dt.datetime,
    connectors: Iterable[str] = (),
    polled: Mapping[str, float] | None = None,
) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    families = await case_families(session, now=now)
    families += await delivery_families(
        session, now=now, connectors=connectors, polled=polled or {}
    )
    families.append(await inbox_family(session))
    registry.register(_Snapshot(families))
    return generate_latest(registry)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="The adapter's cases, deliveries, breakers and pollers as gauges in the "
    "Prometheus text format, read from the database at each scrape (every replica answers "
    "the same): `mam_adapter_cases{state,status}`, `mam_adapter_cases_open{unit}`, "
    "`mam_adapter_cases_overdue{unit}` and `mam_adapter_dead_deliveries{unit}` (an empty "
    "unit: cases no route took); `mam_adapter_deliveries{connector,kind,state}` (pending "
    "and dead case creations and actions); "
    "`mam_adapter_oldest_due_delivery_age_seconds{connector}` (how long the delivery due "
    "longest has waited to be sent, 0 when none is due); "
    "`mam_adapter_breaker_state{connector}` (0 closed, 0.5 half-open, 1 open); "
    "`mam_adapter_poll_success_age_seconds{connector}` (seconds since a poll of each "
    "polled connector last read its changes to their end, +Inf if none has yet, absent "
    "before the first run) and `mam_adapter_poll_interval_seconds{connector}` (how often "
    "it is read); `mam_adapter_inbox_unhandled{source}` (messages stored but not acted on, "
    "kept for an operator).",
    response_class=Response,
    responses={
        200: {
            "description": "Metrics in the Prometheus text exposition format.",
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "# TYPE mam_adapter_cases_overdue gauge\n"
                    'mam_adapter_cases_overdue{unit="zdium"} 3.0\n',
                }
            },
        }
    },
)
async def read_metrics(session: SessionDep, request: Request) -> Response:
    body = await render(
        session,
        now=utcnow(),
        connectors=configured(request),
        polled=polled(request),
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)
