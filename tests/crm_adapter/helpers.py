"""Helpers of the adapter's tests: reports handed over by intake, webhooks from the CRM,
what the adapter sends on, connectors to the simulator, and the adapter's metrics."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from crm_adapter.crm.open311 import Open311Connector
from crm_adapter.crm.open311_tokens import DatabaseTokens
from crm_adapter.crm.photos import PhotoLinks
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.db import InboxMessage, OutboxEvent
from crm_adapter.deliveries.pusher import CasePusher
from shared.contracts import Envelope, ReportStatusChangedV1
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from tests.signed import crm_webhook, submitted_event


async def open_case(adapter, category: str = "pothole") -> uuid.UUID:
    """A report handed over by intake and routed, its case not yet in the CRM."""
    report_id = uuid.uuid4()
    body, headers = submitted_event(category, report_id)
    assert (
        await adapter.post("/internal/events", content=body, headers=headers)
    ).status_code == 202
    return report_id


async def send(adapter, body_and_headers) -> None:
    """Hands a signed event of intake's (a `tests.signed` one) to the adapter."""
    body, headers = body_and_headers
    response = await adapter.post("/internal/events", content=body, headers=headers)
    assert response.status_code == 202


async def hook(adapter, **kwargs):
    """Sends the adapter a signed webhook of the CRM (`tests.signed.crm_webhook`)."""
    body, headers = crm_webhook(**kwargs)
    return await adapter.post("/webhooks/crm", content=body, headers=headers)


async def sent_events(adapter_session) -> list[ReportStatusChangedV1]:
    """The status events in the adapter's outbox for intake, in order (not the routing
    versions it tells intake of, nor delays)."""
    payloads = (
        await adapter_session.scalars(
            select(OutboxEvent.payload)
            .where(OutboxEvent.event_type == "report.status_changed.v1")
            .order_by(OutboxEvent.seq)
        )
    ).all()
    events = [Envelope.model_validate_json(p).event for p in payloads]
    assert all(isinstance(e, ReportStatusChangedV1) for e in events)
    return events  # type: ignore[return-value]


async def crm_messages(adapter_session) -> int:
    """How many of the CRMs' messages the adapter's inbox holds."""
    query = select(func.count()).where(InboxMessage.source.startswith("crm:"))
    return (await adapter_session.scalar(query)) or 0


async def crm_cases(crm: httpx.AsyncClient, report_id: uuid.UUID) -> list[dict]:
    """The cases the CRM (simulator) has for a report."""
    response = await crm.get("/api/cases", params={"external_ref": str(report_id)})
    assert response.status_code == 200
    return list(response.json())


def pusher(
    sessionmaker,
    transport: httpx.AsyncBaseTransport,
    *,
    lease: float = 120,
    timeout: float = 60,
) -> CasePusher:
    """A pusher of case creations to a REST JSON CRM reached through `transport`."""
    client = httpx.AsyncClient(transport=transport, base_url="http://crm")
    connector = RestJsonConnector(
        client=client,
        base_url="http://crm",
        api_key=DEV_SECRETS["crm_api_key"],
        timeout=5,
    )
    return CasePusher(
        sessionmaker=sessionmaker,
        connectors={connector.name: connector},
        backoff=Backoff(base=1e-6, cap=1e-6),
        lease=dt.timedelta(seconds=lease),
        attempt_timeout=timeout,
    )


def open311_connector(
    sessionmaker,
    transport: httpx.AsyncBaseTransport,
    fmt: str = "xml",
    **options,
) -> Open311Connector:
    """The Open311 connector to a CRM reached through `transport` (the simulator's Open311
    side under /open311/v2), in XML or JSON."""
    return Open311Connector(
        client=httpx.AsyncClient(transport=transport),
        base_url="http://crm/open311/v2",
        tokens=DatabaseTokens(sessionmaker),
        api_key=options.pop("api_key", DEV_SECRETS["crm_api_key"]),
        fmt=fmt,  # type: ignore[arg-type]
        timeout=5,
        photo_links=PhotoLinks(
            intake_url="http://intake.example",
            secret=DEV_SECRETS["photo_urls"],
            ttl=dt.timedelta(days=7),
        ),
        token_polls=options.pop("token_polls", 3),
        token_poll_seconds=0.05,
        **options,
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of a /metrics page by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
