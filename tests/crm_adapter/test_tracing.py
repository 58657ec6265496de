"""A report's trace in the adapter: its case is pushed to the CRM in it, and the CRM's
changes of the case, by webhook or by poll, are applied in it and sent back to intake in it,
each linked to the webhook's or the poll's own trace."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from crm_adapter.cases.models import Case
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.db import OutboxEvent
from crm_adapter.statuses.polling import Poller
from shared.settings import DEV_SECRETS
from tests.crm_adapter.helpers import pusher
from tests.crm_adapter.test_pusher import Recording
from tests.signed import crm_webhook, submitted_event
from tests.tracing import TRACE, TRACEPARENT, Spans, hex_trace, recorded_spans, trace_of

OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spans]:
    yield from recorded_spans(monkeypatch)


async def handed_over(adapter) -> uuid.UUID:
    """A report intake handed over in the trace `TRACE`."""
    report_id = uuid.uuid4()
    body, headers = submitted_event("pothole", report_id)
    answer = await adapter.post(
        "/internal/events",
        content=body,
        headers=headers | {"traceparent": TRACEPARENT},
    )
    assert answer.status_code == 202
    return report_id


async def the_case(sessionmaker, report_id: uuid.UUID) -> Case:
    async with sessionmaker() as session:
        case = await session.scalar(select(Case).where(Case.report_id == report_id))
        assert case is not None
        return case


async def traces_sent(sessionmaker) -> list[str | None]:
    """The trace of each event in the outbox to intake, in order."""
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxEvent.traceparent).order_by(OutboxEvent.seq)
        )
        return [trace_of(row) for row in rows]


async def pushed(sessionmaker, crm_simulator_app, report_id) -> Recording:
    crm = Recording(httpx.ASGITransport(app=crm_simulator_app))
    assert await pusher(sessionmaker, crm).run_once() == 1
    return crm


def _webhook(case: Case, status: str, *, version: int) -> tuple[bytes, dict[str, str]]:
    assert case.crm_case_id is not None
    return crm_webhook(
        case_id=case.crm_case_id,
        external_ref=str(case.report_id),
        status=status,
        version=version,
    )


async def test_a_case_is_pushed_to_the_crm_in_the_trace_of_its_report(
    adapter, crm_simulator_app, sessionmaker
):
    report_id = await handed_over(adapter)
    assert trace_of((await the_case(sessionmaker, report_id)).traceparent) == TRACE
    crm = await pushed(sessionmaker, crm_simulator_app, report_id)
    [create] = [r for r in crm.requests if r.method == "POST"]
    assert trace_of(create.headers["traceparent"]) == TRACE
    # The case's first status (`submitted`) goes back to intake in the same trace.
    assert await traces_sent(sessionmaker) == [TRACE]


async def test_a_webhooks_change_goes_back_in_the_reports_trace_linked_to_its_own(
    adapter, crm_simulator, crm_simulator_app, sessionmaker, spans
):
    report_id = await handed_over(adapter)
    await pushed(sessionmaker, crm_simulator_app, report_id)
    case = await the_case(sessionmaker, report_id)
    webhook = f"00-{OTHER_TRACE}-b7ad6b7169203331-01"
    body, headers = _webhook(case, "IN_PROGRESS", version=2)
    answer = await adapter.post(
        "/webhooks/crm", content=body, headers=headers | {"traceparent": webhook}
    )
    assert answer.status_code == 202
    assert await traces_sent(sessionmaker) == [TRACE, TRACE]
    [applied] = spans.named("case.crm_change")
    assert hex_trace(applied) == TRACE
    assert [format(link.context.trace_id, "032x") for link in applied.links] == [
        OTHER_TRACE
    ]


async def test_a_polls_change_goes_back_in_the_reports_trace_the_poll_in_its_own(
    adapter, crm_simulator, crm_simulator_app, sessionmaker, spans
):
    report_id = await handed_over(adapter)
    await pushed(sessionmaker, crm_simulator_app, report_id)
    case = await the_case(sessionmaker, report_id)
    await crm_simulator.post(
        f"/api/cases/{case.crm_case_id}/status", json={"status": "ASSIGNED"}
    )
    connector = RestJsonConnector(
        client=httpx.AsyncClient(transport=httpx.ASGITransport(app=crm_simulator_app)),
        base_url="http://crm",
        api_key=DEV_SECRETS["crm_api_key"],
        timeout=5,
    )
    await Poller(sessionmaker=sessionmaker, connector=connector).run_once()
    assert await traces_sent(sessionmaker) == [TRACE, TRACE]
    [poll] = spans.named("crm.poll")
    [applied] = spans.named("case.crm_change")
    assert poll.parent is None
    assert hex_trace(poll) != TRACE
    assert hex_trace(applied) == TRACE
    assert [link.context.trace_id for link in applied.links] == [poll.context.trace_id]
