"""GET /metrics: the adapter's cases in the Prometheus text format, read from the database.

Every figure is counted from the database when scraped, so every replica answers the same
and nothing is lost on a restart; no process keeps counters of its own. The endpoint needs
no key, like `/healthz`: it tells counts per state, status and unit, nothing about a report,
and sits behind the same network rules as the rest of the operations endpoints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases.models import CaseState
from crm_adapter.monitoring import repository
from shared.db import utcnow
from shared.deps import SessionDep

router = APIRouter(tags=["operations"])

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


async def render(session: AsyncSession, *, now: dt.datetime) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(await case_families(session, now=now)))
    return generate_latest(registry)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="The adapter's cases as gauges in the Prometheus text format, counted in "
    "the database at each scrape (every replica answers the same): "
    "`mam_adapter_cases{state,status}`, `mam_adapter_cases_open{unit}`, "
    "`mam_adapter_cases_overdue{unit}` and `mam_adapter_dead_deliveries{unit}` (an empty "
    "unit: cases no route took).",
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
async def metrics(session: SessionDep) -> Response:
    body = await render(session, now=utcnow())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
