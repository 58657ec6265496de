"""Polling CRMs for status changes: into the webhook path, once, from a stored cursor."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crm_adapter.config import Settings
from crm_adapter.crm.configured import poll_intervals
from crm_adapter.crm.connector import CrmStatusChange
from crm_adapter.crm.models import PollCursor
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.db import InboxMessage
from crm_adapter.deliveries.pusher import CasePusher
from crm_adapter.statuses.models import HeldChange
from crm_adapter.statuses.polling import Poller
from crm_adapter.statuses.receive import receive_change
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from shared.signing import Signer
from tests.crm_adapter.fake_crm import Answer
from tests.crm_adapter.helpers import (
    crm_messages,
    open311_connector,
    open_case,
    sent_events,
)
from tests.helpers import route_unit_to
from tests.signed import submitted_event


@pytest.fixture
async def czk_on_open311(adapter):
    """The unit `czk` (fallen trees) served by the Open311 CRM (a new routing version)."""
    await route_unit_to(adapter, "czk", "open311")


def rest_connector(
    transport: httpx.AsyncBaseTransport, **options: Any
) -> RestJsonConnector:
    return RestJsonConnector(
        client=httpx.AsyncClient(transport=transport),
        base_url="http://crm",
        api_key=DEV_SECRETS["crm_api_key"],
        timeout=5,
        **options,
    )


async def push(sessionmaker, connector, adapter, category: str) -> uuid.UUID:
    """A report of `category` handed over by intake, and its case created in the CRM."""
    report_id = uuid.uuid4()
    body, headers = submitted_event(category, report_id)
    assert (
        await adapter.post("/internal/events", content=body, headers=headers)
    ).status_code == 202
    pusher = CasePusher(
        sessionmaker=sessionmaker,
        connectors={connector.name: connector},
        backoff=Backoff(base=1e-6, cap=1e-6),
        lease=dt.timedelta(seconds=60),
    )
    assert await pusher.run_once() == 1
    return report_id


async def crm_case_id(crm_simulator, report_id: uuid.UUID) -> str:
    [case] = (
        await crm_simulator.get("/api/cases", params={"external_ref": str(report_id)})
    ).json()
    return str(case["case_id"])


async def sent(sessionmaker) -> list:
    """The status events sent to intake so far (a fresh read each time)."""
    async with sessionmaker() as session:
        return await sent_events(session)


async def the_cursor(sessionmaker, name: str) -> PollCursor:
    async with sessionmaker() as session:
        row = await session.scalar(
            select(PollCursor).where(PollCursor.connector == name)
        )
        assert row is not None
        return row


@pytest.mark.parametrize(
    ("fmt", "source"), [("xml", "updates"), ("json", "requests"), ("xml", "auto")]
)
async def test_open311_changes_come_back_once_and_the_cursor_survives_a_restart(
    adapter,
    adapter_session,
    crm_simulator,
    crm_simulator_app,
    sessionmaker,
    czk_on_open311,
    fmt,
    source,
):
    def restarted() -> Poller:
        """A poller of a fresh process: nothing in memory, only the database."""
        transport = httpx.ASGITransport(app=crm_simulator_app)
        connector = open311_connector(sessionmaker, transport, fmt, poll_source=source)
        return Poller(sessionmaker=sessionmaker, connector=connector)

    connector = open311_connector(
        sessionmaker, httpx.ASGITransport(app=crm_simulator_app), fmt
    )
    report_id = await push(sessionmaker, connector, adapter, "fallen_tree")
    case_id = await crm_case_id(crm_simulator, report_id)
    await crm_simulator.post(
        f"/api/cases/{case_id}/status",
        json={"status": "IN_PROGRESS", "note": "Ekipa z piłą w drodze"},
    )

    poller = restarted()
    await poller.run_once()
    await poller.run_once()  # the same window again: nothing new
    await restarted().run_once()
    events = await sent(sessionmaker)
    assert [(e.status, e.note, e.crm_case_id) for e in events] == [
        ("submitted", None, case_id),
        ("in_progress", "Ekipa z piłą w drodze", case_id),
    ]
    cursor = await the_cursor(sessionmaker, "open311")
    assert cursor.cursor is not None
    assert cursor.last_error is None

    await crm_simulator.post(f"/api/cases/{case_id}/status", json={"status": "DONE"})
    await restarted().run_once()
    events = await sent(sessionmaker)
    assert [e.status for e in events] == ["submitted", "in_progress", "resolved"]
    assert events[-1].crm_status in ("DONE", "fixed")


async def test_a_failed_poll_keeps_the_cursor_and_says_why(
    adapter, sessionmaker, czk_on_open311
):
    await open_case(adapter, "fallen_tree")
    poller = Poller(
        sessionmaker=sessionmaker,
        connector=open311_connector(sessionmaker, Answer(503), "xml"),
    )
    await poller.run_once()
    cursor = await the_cursor(sessionmaker, "open311")
    assert cursor.cursor is None
    assert cursor.last_error is not None
    assert "503" in cursor.last_error
    assert cursor.last_run_at is not None
    assert cursor.last_success_at is None


async def test_rest_json_polling_backs_up_webhooks_and_each_change_counts_once(
    adapter, adapter_session, crm_simulator, crm_simulator_app, sessionmaker
):
    connector = rest_connector(httpx.ASGITransport(app=crm_simulator_app))
    report_id = await push(sessionmaker, connector, adapter, "pothole")
    case_id = await crm_case_id(crm_simulator, report_id)
    await crm_simulator.post(
        f"/api/cases/{case_id}/status", json={"status": "ASSIGNED", "note": "Jutro"}
    )
    # The webhook is lost on its way; the poll brings the change.
    poller = Poller(sessionmaker=sessionmaker, connector=connector)
    await poller.run_once()
    events = await sent(sessionmaker)
    assert [(e.status, e.note) for e in events] == [
        ("submitted", None),
        ("in_progress", "Jutro"),
    ]
    assert (await the_cursor(sessionmaker, "rest_json")).cursor == "1"

    # The webhook of the same change arrives after all: stored once, nothing sent again.
    [entry] = (await crm_simulator.get("/api/updates")).json()
    body = json.dumps({k: v for k, v in entry.items() if k != "seq"}).encode()
    headers = Signer(DEV_SECRETS["crm_webhooks"]).headers(entry["update_id"], body)
    response = await adapter.post(
        "/webhooks/crm",
        content=body,
        headers={"content-type": "application/json", **headers},
    )
    assert response.status_code == 202
    await poller.run_once()
    assert len(await sent(sessionmaker)) == 2
    assert await crm_messages(adapter_session) == 1


class WithoutUpdateFeed(httpx.AsyncBaseTransport):
    """An Open311 server without mySociety's update feed: 404 for it, the rest as is."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.asked: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url.path)
        if "servicerequestupdates" in request.url.path:
            return httpx.Response(
                404, content=b"<errors><error><code>404</code></error></errors>"
            )
        return await self.inner.handle_async_request(request)


async def test_without_an_update_feed_auto_polling_reads_the_requests(
    adapter, crm_simulator, crm_simulator_app, sessionmaker, czk_on_open311
):
    server = WithoutUpdateFeed(httpx.ASGITransport(app=crm_simulator_app))
    connector = open311_connector(sessionmaker, server, "xml", poll_source="auto")
    report_id = await push(sessionmaker, connector, adapter, "fallen_tree")
    case_id = await crm_case_id(crm_simulator, report_id)
    await crm_simulator.post(
        f"/api/cases/{case_id}/status",
        json={"status": "NOT_CITY_MATTER", "note": "Teren prywatny"},
    )
    poller = Poller(sessionmaker=sessionmaker, connector=connector)
    await poller.run_once()
    await poller.run_once()
    events = await sent(sessionmaker)
    assert [(e.status, e.note) for e in events] == [
        ("submitted", None),
        ("rejected", "Teren prywatny"),
    ]
    feed = [p for p in server.asked if "servicerequestupdates" in p]
    assert len(feed) == 1  # asked once, then remembered


async def test_an_open311_change_read_late_goes_to_the_history_only(
    adapter, crm_simulator, crm_simulator_app, sessionmaker, czk_on_open311
):
    connector = open311_connector(
        sessionmaker, httpx.ASGITransport(app=crm_simulator_app), "xml"
    )
    report_id = await push(sessionmaker, connector, adapter, "fallen_tree")
    case_id = await crm_case_id(crm_simulator, report_id)
    await crm_simulator.post(f"/api/cases/{case_id}/status", json={"status": "DONE"})
    await Poller(sessionmaker=sessionmaker, connector=connector).run_once()
    assert [e.status for e in await sent(sessionmaker)] == ["submitted", "resolved"]

    # A change the CRM made an hour ago, committed late and read only now: Open311 gives
    # no versions, so its time orders it.
    late = CrmStatusChange(
        update_id="late-1",
        case_id=case_id,
        external_ref=None,
        status="in_progress",
        note="Ekipa w drodze",
        version=None,
        changed_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    async with sessionmaker() as session:
        assert await receive_change(session, connector_name="open311", change=late)
    assert [(e.status, e.superseded, e.note) for e in await sent(sessionmaker)] == [
        ("submitted", False, None),
        ("resolved", False, None),
        ("in_progress", True, "Ekipa w drodze"),
    ]


async def test_a_poller_behind_reads_page_after_page_at_once(
    adapter, crm_simulator, crm_simulator_app, sessionmaker
):
    connector = rest_connector(httpx.ASGITransport(app=crm_simulator_app), poll_page=2)
    report_id = await push(sessionmaker, connector, adapter, "pothole")
    case_id = await crm_case_id(crm_simulator, report_id)
    for status in ("ASSIGNED", "IN_PROGRESS", "DONE"):
        await crm_simulator.post(
            f"/api/cases/{case_id}/status", json={"status": status}
        )

    # Even as a daily sweep: a poller that found changes goes on at once, until a page
    # comes back empty, then waits its interval.
    poller = Poller(
        sessionmaker=sessionmaker, connector=connector, every=dt.timedelta(days=1)
    )
    assert await poller.run_once() == 2
    assert (await the_cursor(sessionmaker, "rest_json")).cursor == "2"
    assert await poller.run_once() == 1
    assert (await the_cursor(sessionmaker, "rest_json")).cursor == "3"
    assert await poller.run_once() == 0
    assert (await the_cursor(sessionmaker, "rest_json")).cursor == "3"
    # ASSIGNED and IN_PROGRESS both mean in progress: the resident hears it once.
    assert [e.status for e in await sent(sessionmaker)] == [
        "submitted",
        "in_progress",
        "resolved",
    ]


class Altered(httpx.AsyncBaseTransport):
    """The CRM as it is, but `alter` rewrites the records of its change list (JSON)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        path: str,
        alter: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        self.inner = inner
        self.path = path
        self.alter = alter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path != self.path:
            return response
        records = json.loads(await response.aread())
        self.alter(records)
        return httpx.Response(response.status_code, json=records)


@pytest.mark.parametrize(
    "too_long",
    [
        {"update_id": "U" * 201},
        {"case_id": "C" * 101},
        {"external_ref": "R" * 201},
        {"status": "X" * 51},
    ],
)
async def test_a_rest_json_change_too_long_for_its_columns_is_passed_over(
    adapter,
    adapter_session,
    crm_simulator,
    crm_simulator_app,
    sessionmaker,
    too_long,
):
    def spoil_the_first(records: list[dict[str, Any]]) -> None:
        records[0].update(too_long)

    crm = Altered(
        httpx.ASGITransport(app=crm_simulator_app), "/api/updates", spoil_the_first
    )
    connector = rest_connector(crm)
    report_id = await push(sessionmaker, connector, adapter, "pothole")
    case_id = await crm_case_id(crm_simulator, report_id)
    for status in ("ASSIGNED", "DONE"):
        await crm_simulator.post(
            f"/api/cases/{case_id}/status", json={"status": status}
        )

    # The change the adapter cannot store is left behind; the one after it is not.
    poller = Poller(sessionmaker=sessionmaker, connector=connector)
    await poller.run_once()
    cursor = await the_cursor(sessionmaker, "rest_json")
    assert (cursor.cursor, cursor.last_error) == ("2", None)
    assert [e.status for e in await sent(sessionmaker)] == ["submitted", "resolved"]
    assert await crm_messages(adapter_session) == 1


async def test_an_open311_change_too_long_for_its_columns_is_passed_over(
    adapter,
    adapter_session,
    crm_simulator,
    crm_simulator_app,
    sessionmaker,
    czk_on_open311,
):
    def spoil_the_first(records: list[dict[str, Any]]) -> None:
        # A code without a mapping (the change would be held whole) and a reference
        # longer than the held change's column.
        records[0].update(
            status="awaiting_parts",
            external_status_code="",
            service_request_id_ext="R" * 201,
        )

    crm = Altered(
        httpx.ASGITransport(app=crm_simulator_app),
        "/open311/v2/servicerequestupdates.json",
        spoil_the_first,
    )
    connector = open311_connector(sessionmaker, crm, "json", poll_source="updates")
    report_id = await push(sessionmaker, connector, adapter, "fallen_tree")
    case_id = await crm_case_id(crm_simulator, report_id)
    for status in ("ASSIGNED", "DONE"):
        await crm_simulator.post(
            f"/api/cases/{case_id}/status", json={"status": status}
        )

    poller = Poller(sessionmaker=sessionmaker, connector=connector)
    await poller.run_once()
    cursor = await the_cursor(sessionmaker, "open311")
    assert cursor.cursor is not None
    assert cursor.last_error is None
    assert [e.status for e in await sent(sessionmaker)] == ["submitted", "resolved"]
    assert await crm_messages(adapter_session) == 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(HeldChange.id))) == 0


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # Webhooks first, and a daily sweep for the ones lost; Open311 has no webhooks.
        ({}, {"rest_json": 86400.0, "open311": 300.0}),
        ({"crm_poll": True, "crm_poll_seconds": 60}, {"rest_json": 60, "open311": 300}),
        ({"crm_reconcile_hours": 6}, {"rest_json": 21600.0, "open311": 300.0}),
        ({"crm_reconcile_hours": 0, "open311_poll": False}, {}),
    ],
)
def test_which_connectors_are_polled_how_often(settings, expected):
    assert poll_intervals(Settings(**settings)) == expected


class Counting(httpx.AsyncBaseTransport):
    """The CRM as it is, counting the polls it gets and failing the next `failures`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.polls = 0
        self.failures = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/updates":
            self.polls += 1
            if self.failures:
                self.failures -= 1
                return httpx.Response(503)
        return await self.inner.handle_async_request(request)


async def test_a_daily_sweep_reads_once_a_day_and_retries_a_failure_at_once(
    adapter, crm_simulator, crm_simulator_app, sessionmaker
):
    crm = Counting(httpx.ASGITransport(app=crm_simulator_app))
    connector = rest_connector(crm)
    sweep = Poller(
        sessionmaker=sessionmaker, connector=connector, every=dt.timedelta(days=1)
    )
    # No case was ever routed to this CRM: nothing of ours can be there.
    await sweep.run_once()
    assert crm.polls == 0

    report_id = await push(sessionmaker, connector, adapter, "pothole")
    case_id = await crm_case_id(crm_simulator, report_id)
    await crm_simulator.post(f"/api/cases/{case_id}/status", json={"status": "DONE"})
    crm.failures = 1
    await sweep.run_once()
    assert (await the_cursor(sessionmaker, "rest_json")).last_error is not None
    await sweep.run_once()  # the next wake tries again
    await sweep.run_once()  # an empty page ends the sweep
    assert crm.polls == 3
    assert [e.status for e in await sent(sessionmaker)] == ["submitted", "resolved"]

    await sweep.run_once()  # done for today
    assert crm.polls == 3
    async with sessionmaker() as session:
        row = await session.get(PollCursor, "rest_json")
        assert row is not None
        row.last_success_at = row.last_success_at - dt.timedelta(days=1)
        await session.commit()
    await sweep.run_once()
    assert crm.polls == 4


async def test_a_sweep_stopped_half_way_goes_on_at_the_next_wake(
    adapter, crm_simulator, crm_simulator_app, sessionmaker
):
    crm = Counting(httpx.ASGITransport(app=crm_simulator_app))
    connector = rest_connector(crm, poll_page=1)
    report_id = await push(sessionmaker, connector, adapter, "pothole")
    case_id = await crm_case_id(crm_simulator, report_id)
    for status in ("ASSIGNED", "DONE"):
        await crm_simulator.post(
            f"/api/cases/{case_id}/status", json={"status": status}
        )

    def sweep() -> Poller:
        """The sweep of whichever replica wakes: nothing in memory."""
        return Poller(
            sessionmaker=sessionmaker, connector=connector, every=dt.timedelta(days=1)
        )

    assert await sweep().run_once() == 1  # the first page
    crm.failures = 1
    assert await sweep().run_once() == 0  # the second fails
    assert (await the_cursor(sessionmaker, "rest_json")).last_success_at is None
    assert await sweep().run_once() == 1  # the next wake goes on from the cursor
    assert await sweep().run_once() == 0  # to the end
    assert (await the_cursor(sessionmaker, "rest_json")).last_success_at is not None
    assert [e.status for e in await sent(sessionmaker)] == [
        "submitted",
        "in_progress",
        "resolved",
    ]


@pytest.mark.parametrize("source", ["updates", "requests"])
async def test_the_requests_the_crm_got_elsewhere_are_passed_over(
    adapter,
    adapter_session,
    crm_simulator,
    crm_simulator_app,
    sessionmaker,
    czk_on_open311,
    source,
):
    connector = open311_connector(
        sessionmaker,
        httpx.ASGITransport(app=crm_simulator_app),
        "json",
        poll_source=source,
    )
    report_id = await push(sessionmaker, connector, adapter, "fallen_tree")
    ours = await crm_case_id(crm_simulator, report_id)
    # Another app files a request of its own with the same CRM.
    other = await crm_simulator.post(
        "/open311/v2/requests.json",
        data={
            "api_key": DEV_SECRETS["crm_api_key"],
            "service_code": "fallen_tree",
            "lat": "51.11",
            "long": "17.03",
            "description": "Drzewo na jezdni",
        },
    )
    assert other.status_code == 200, other.text
    [filed] = other.json()
    theirs = filed["service_request_id"]
    for case_id in (ours, theirs):
        await crm_simulator.post(
            f"/api/cases/{case_id}/status", json={"status": "DONE"}
        )

    await Poller(sessionmaker=sessionmaker, connector=connector).run_once()
    assert [e.status for e in await sent(sessionmaker)] == ["submitted", "resolved"]
    # Only our case's changes are stored: nothing waits in the inbox for an operator.
    stored = (
        await adapter_session.scalars(
            select(InboxMessage.payload).where(InboxMessage.source == "crm:open311")
        )
    ).all()
    assert stored
    assert all(theirs not in payload for payload in stored)
