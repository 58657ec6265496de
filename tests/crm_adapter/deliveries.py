"""Deliveries to the CRM under a circuit breaker: pushers and forwarders whose connectors'
clients the `close_clients` fixture closes, the simulator's faults, the rows to move on,
and the admin API's view of deliveries and connectors."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
from sqlalchemy import select

from crm_adapter.cases.models import Case, CaseAction
from crm_adapter.config import BreakerPolicy
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.deliveries.forwarder import ActionForwarder
from crm_adapter.deliveries.models import ConnectorBreaker
from crm_adapter.deliveries.pusher import CasePusher
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from tests.helpers import READ

BUDGET = dt.timedelta(hours=72)
POLICY = BreakerPolicy(
    failures=3,
    open_for=dt.timedelta(seconds=60),
    max_open_for=dt.timedelta(seconds=600),
)

_clients: list[httpx.AsyncClient] = []


async def close_connector_clients() -> None:
    """Closes the HTTP clients of the connectors made so far."""
    while _clients:
        await _clients.pop().aclose()


def connectors(
    crm: httpx.AsyncClient | httpx.AsyncBaseTransport,
) -> dict[str, RestJsonConnector]:
    if isinstance(crm, httpx.AsyncClient):
        client, base_url = httpx.AsyncClient(), str(crm.base_url)
    else:
        client, base_url = httpx.AsyncClient(transport=crm), "http://crm"
    _clients.append(client)
    connector = RestJsonConnector(
        client=client,
        base_url=base_url,
        api_key=DEV_SECRETS["crm_api_key"],
        timeout=5,
    )
    return {connector.name: connector}


def pusher(
    sessionmaker, crm, *, budget: dt.timedelta = BUDGET, lease: float = 120
) -> CasePusher:
    return CasePusher(
        sessionmaker=sessionmaker,
        connectors=connectors(crm),
        backoff=Backoff(base=1e-6, cap=1e-6, budget=budget),
        lease=dt.timedelta(seconds=lease),
        breaker_policy=POLICY,
    )


def forwarder(sessionmaker, crm, *, budget: dt.timedelta = BUDGET) -> ActionForwarder:
    return ActionForwarder(
        sessionmaker=sessionmaker,
        connectors=connectors(crm),
        backoff=Backoff(base=1e-6, cap=1e-6, budget=budget),
        lease=dt.timedelta(seconds=120),
        breaker_policy=POLICY,
    )


async def faults(crm: httpx.AsyncClient, *rules: dict[str, object]) -> None:
    response = await crm.put("/_sim/faults", json={"rules": list(rules)})
    assert response.status_code == 200, response.text


async def case_of(sessionmaker, report_id: uuid.UUID) -> Case:
    async with sessionmaker() as session:
        case = await session.scalar(select(Case).where(Case.report_id == report_id))
        assert case is not None
        return case


async def make_due(sessionmaker) -> None:
    """Everything waiting is due now rather than after its backoff."""
    now = dt.datetime.now(dt.UTC)
    async with sessionmaker() as session:
        for row in [
            *(await session.scalars(select(Case))).all(),
            *(await session.scalars(select(CaseAction))).all(),
        ]:
            row.next_attempt_at = now
        await session.commit()


async def end_open_period(sessionmaker) -> None:
    """The breaker's open period is over (rather than waiting a minute for it)."""
    async with sessionmaker() as session:
        breaker = await session.get(ConnectorBreaker, "rest_json")
        assert breaker is not None
        breaker.open_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await session.commit()


async def delivery(adapter, delivery_id: uuid.UUID) -> dict:
    response = await adapter.get(f"/admin/deliveries/{delivery_id}", headers=READ)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def connector_state(adapter) -> dict:
    response = await adapter.get("/admin/connectors", headers=READ)
    assert response.status_code == 200, response.text
    [rest_json] = [c for c in response.json() if c["name"] == "rest_json"]
    return dict(rest_json)
