"""GET /metrics: the adapter's cases, deliveries, breakers, pollers, outbox and inbox in the
Prometheus text format, read from the database, and this process's requests.

Every figure but the requests' is counted from the database when scraped, so every replica
answers the same and nothing is lost on a restart. The requests' histogram is the process's
own (scrape each replica). The endpoint needs no key, like `/healthz`: it tells counts per
state, status, unit and connector, nothing about a report or a person, and sits behind the
same network rules as the rest of the operations endpoints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import CaseState
from crm_adapter.db import InboxMessage, OutboxEvent
from crm_adapter.deliveries import breaker
from crm_adapter.deliveries import repository as deliveries
from crm_adapter.deliveries.models import DeliveryKind, Outcome
from crm_adapter.deliveries.operations import configured, polled
from crm_adapter.monitoring import repository
from shared.db import utcnow
from shared.deps import SessionDep
from shared.http_metrics import RequestMetrics
from shared.routes import Router
from shared.scrape import Snapshot, age, inbox_families, outbox_families, render

router = Router(tags=["operations"])

NO_UNIT = ""
"""The `unit` label of cases no route took."""


async def case_families(
    session: AsyncSession, *, now: dt.datetime
) -> list[GaugeMetricFamily]:
    """The cases' gauges; every known unit and delivery state appears, with 0 if need be.

    No index serves these: each reads all of `cases` (`ix_cases_state` leads the dead
    ones' count to them alone).
    """
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
) -> list[Metric]:
    """The deliveries', breakers' and pollers' figures; every configured connector appears
    in each (each kind, state and outcome too), with 0 if need be.

    Pending and dead actions are found by `ix_case_actions_state`, due creations by
    `ix_cases_state`; the waiting creations are counted in one pass over `cases` (the
    union of deliveries renames their state, which no index holds). Breakers and cursors
    are a row per connector.
    """
    names = set(connectors)
    return [
        await _waiting_family(session, names),
        await _oldest_due_family(session, names, now=now),
        await attempts_family(session, names),
        *await _breaker_families(session, names, now=now),
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


async def attempts_family(
    session: AsyncSession, names: set[str]
) -> CounterMetricFamily:
    """Every attempt in the delivery log; every configured connector appears with each
    kind and outcome, with 0 if need be (so the first dead one counts as an increase)."""
    family = CounterMetricFamily(
        "mam_adapter_delivery_attempts",
        "Attempts to deliver to the CRMs, from the delivery log, by connector, kind and "
        "outcome (delivered; skipped_by_lookup: the CRM had the case already; retry: "
        "failed, tried again later; dead: refused or out of retries, held for an "
        "operator). Counted from the database: the same on every replica.",
        labels=["connector", "kind", "outcome"],
    )
    counted = {
        (c, k, o): n for c, k, o, n in await repository.attempts_by_outcome(session)
    }
    every = {
        (c, k.value, o.value) for c in names for k in DeliveryKind for o in Outcome
    }
    for key in sorted(every | counted.keys()):
        family.add_metric(list(key), counted.get(key, 0))
    return family


async def _breaker_families(
    session: AsyncSession, names: set[str], *, now: dt.datetime
) -> list[GaugeMetricFamily]:
    breakers = await deliveries.breakers(session)
    state = GaugeMetricFamily(
        "mam_adapter_breaker_state",
        "Each connector's circuit breaker: 0 closed (deliveries go), 0.5 half-open (the "
        "next due delivery is a probe), 1 open (nothing is sent).",
        labels=["connector"],
    )
    open_for = GaugeMetricFamily(
        "mam_adapter_breaker_open_seconds",
        "Per connector, seconds since its breaker opened, through every failed probe "
        "and reopening until it closes (tripped by hand too); 0 while closed.",
        labels=["connector"],
    )
    for connector in sorted(names | breakers.keys()):
        row = breakers.get(connector)
        value = BREAKER_VALUES[breaker.state_of(row, now)]
        state.add_metric([connector], value)
        opened_at = row.opened_at if row is not None and value else None
        open_for.add_metric([connector], age(opened_at, now))
    return [state, open_for]


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


INBOX_SOURCES = ("intake",)
"""Senders whose messages may wait unhandled: an event of intake the adapter could not act
on (a reopen of a report it has no case of). A CRM's change is always handled: one about a
case that is not ours is acknowledged and left alone."""


async def backlog_families(session: AsyncSession, *, now: dt.datetime) -> list[Metric]:
    """The outbox's events for intake and the inbox's unhandled messages."""
    # ix_outbox_events_status reads only unsent events; ix_inbox_messages_unhandled holds
    # only the unhandled messages.
    return [
        *await outbox_families(
            session, OutboxEvent, prefix="mam_adapter", receiver="intake", now=now
        ),
        *await inbox_families(
            session, InboxMessage, prefix="mam_adapter", sources=INBOX_SOURCES, now=now
        ),
    ]


async def database_families(
    session: AsyncSession,
    *,
    now: dt.datetime,
    connectors: Iterable[str] = (),
    polled: Mapping[str, float] | None = None,
) -> list[Metric]:
    families: list[Metric] = [*await case_families(session, now=now)]
    families += await delivery_families(
        session, now=now, connectors=connectors, polled=polled or {}
    )
    families += await backlog_families(session, now=now)
    return families


DESCRIPTION = (
    "The adapter's figures in the Prometheus text format. **Counted from the database** "
    "at each scrape (every replica answers the same): `mam_adapter_cases{state,status}`, "
    "`mam_adapter_cases_open{unit}`, `mam_adapter_cases_overdue{unit}` (open cases past "
    "their due time) and `mam_adapter_dead_deliveries{unit}` (an empty unit: cases no "
    "route took); `mam_adapter_deliveries{connector,kind,state}` (pending and dead case "
    "creations and actions; dead ones are replayed at `POST /admin/deliveries/replay`); "
    "`mam_adapter_delivery_attempts_total{connector,kind,outcome}` (every attempt in the "
    "delivery log: `delivered`, `skipped_by_lookup`, `retry` or `dead`); "
    "`mam_adapter_oldest_due_delivery_age_seconds{connector}` (how long the delivery due "
    "longest has waited to be sent, 0 when none is due); "
    "`mam_adapter_breaker_state{connector}` (0 closed, 0.5 half-open, 1 open) and "
    "`mam_adapter_breaker_open_seconds{connector}` (since it opened, through failed "
    "probes, until it closes; 0 while closed); "
    "`mam_adapter_poll_success_age_seconds{connector}` (seconds since a poll of each "
    "polled connector last read its changes to their end, +Inf if none has yet, absent "
    "before the first run) and `mam_adapter_poll_interval_seconds{connector}` (how often "
    "it is read); `mam_adapter_outbox_events{state}` (events for intake `pending`: queued, "
    "being sent or waiting out a retry, or `dead`: retry budget spent) and "
    "`mam_adapter_outbox_oldest_pending_age_seconds` (0 when none is pending); "
    "`mam_adapter_inbox_unhandled{source}` (messages stored but not acted on, kept for an "
    "operator at `GET /admin/inbox`) and `mam_adapter_inbox_oldest_unhandled_age_seconds`. "
    "**This process's own** (scrape each replica): "
    "`mam_http_request_duration_seconds{route,method,status}` (histogram: time from a "
    "request's arrival until its status and headers were sent, by route template such as "
    "`/admin/cases/{case_id}` (`unmatched` for every path no route takes), method and "
    "status class `2xx` to `5xx`; its `_count` gives the request rate and the errors)."
)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description=DESCRIPTION,
    response_class=Response,
    responses={
        200: {
            "description": "Metrics in the Prometheus text exposition format.",
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "# TYPE mam_adapter_cases_overdue gauge\n"
                    'mam_adapter_cases_overdue{unit="zdium"} 3.0\n'
                    "# TYPE mam_adapter_breaker_open_seconds gauge\n"
                    'mam_adapter_breaker_open_seconds{connector="rest_json"} 0.0\n'
                    "# TYPE mam_adapter_delivery_attempts counter\n"
                    "mam_adapter_delivery_attempts_total{"
                    'connector="rest_json",kind="create",outcome="dead"} 2.0\n',
                }
            },
        }
    },
)
async def read_metrics(session: SessionDep, request: Request) -> Response:
    counted = await database_families(
        session,
        now=utcnow(),
        connectors=configured(request),
        polled=polled(request),
    )
    await session.commit()  # read only: ends the transaction before the page is sent
    requests: RequestMetrics = request.app.state.request_metrics
    return Response(render(Snapshot(counted), requests), media_type=CONTENT_TYPE_LATEST)
