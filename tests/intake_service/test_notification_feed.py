"""The in-app feed: unread count, marking read, keyset pages, texts in today's language."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text, update

from intake_service.accounts import tokens
from intake_service.accounts.models import Account
from intake_service.notifications import router
from shared.contracts import ReportStatus
from shared.db import make_engine, make_sessionmaker
from tests.helpers import POTHOLE, register_and_sign_in
from tests.signed import status_event


async def feed(intake, headers, **params) -> dict:
    response = await intake.get("/v1/me/notifications", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def three_changes(intake, headers) -> str:
    report_id = (
        await intake.post("/v1/reports", json=POTHOLE, headers=headers)
    ).json()["id"]
    # Still open, so nothing but the changes themselves is said.
    for sequence in (1, 2, 3):
        body, signed = status_event(
            report_id, ReportStatus.IN_PROGRESS, sequence, note=f"krok {sequence}"
        )
        await intake.post("/internal/events", content=body, headers=signed)
    return report_id


async def test_unread_count_and_marking_read(intake):
    anna = await register_and_sign_in(intake, "anna@example.org")
    ewa = await register_and_sign_in(intake, "ewa@example.org")
    await three_changes(intake, anna)
    items = (await feed(intake, anna))["items"]
    assert [n["text"][-6:] for n in items] == ["krok 3", "krok 2", "krok 1"]
    assert (await feed(intake, anna))["unread_count"] == 3

    first = items[0]["id"]
    # Another resident cannot mark Anna's notifications.
    other = await intake.post(
        "/v1/me/notifications/read", json={"ids": [first]}, headers=ewa
    )
    assert other.json() == {"marked": 0, "unread_count": 0}
    marked = await intake.post(
        "/v1/me/notifications/read", json={"ids": [first]}, headers=anna
    )
    assert marked.json() == {"marked": 1, "unread_count": 2}
    everything = await intake.post("/v1/me/notifications/read", json={}, headers=anna)
    assert everything.json() == {"marked": 2, "unread_count": 0}
    assert all(n["read_at"] for n in (await feed(intake, anna))["items"])


async def test_keyset_pages_cover_the_feed_once(intake):
    anna = await register_and_sign_in(intake, "anna@example.org")
    await three_changes(intake, anna)
    everything = [n["id"] for n in (await feed(intake, anna))["items"]]
    pages, cursor = [], None
    while True:
        page = await feed(
            intake, anna, limit=1, **({"cursor": cursor} if cursor else {})
        )
        pages += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == everything


async def test_texts_follow_a_change_of_language(intake, intake_settings):
    anna = await register_and_sign_in(intake, "anna@example.org", lang="pl")
    await three_changes(intake, anna)
    before = (await feed(intake, anna))["items"][-1]
    assert "w realizacji" in before["text"]
    assert "krok 1" in before["text"]
    engine = make_engine(intake_settings.database_url)
    async with make_sessionmaker(engine)() as session:
        await session.execute(update(Account).values(lang="de"))
        await session.commit()
    await engine.dispose()
    after = (await feed(intake, anna))["items"][-1]
    assert after["id"] == before["id"]
    assert "in Bearbeitung" in after["text"]
    assert after["title"].startswith("Meldung ")


SLOW_QUERY = text("SELECT pg_sleep(1)")
"""A query still under way when the client goes: PostgreSQL's own sleep, and on SQLite a
function of that name that sleeps in the connection's thread, as a slow query would (without
burning a core for seconds)."""


async def with_pg_sleep(session) -> None:
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        raw = await connection.get_raw_connection()
        await raw.driver_connection.create_function("pg_sleep", 1, time.sleep)


class TestStreamDisconnect:
    """The stream is driven over raw ASGI here: the in-process client reads a response
    to its end, and this one never ends."""

    async def test_a_client_gone_mid_query_leaves_no_connection_behind(
        self, intake, monkeypatch
    ):
        anna = await register_and_sign_in(intake, "anna@example.org")
        engine = intake.app.state.sessionmaker.kw["bind"]
        checked_out = engine.pool.checkedout()
        inside, gone = asyncio.Event(), asyncio.Event()

        async def checked_then_held(session, token):
            found = await tokens.authenticate_token(session, token)
            await with_pg_sleep(session)
            inside.set()  # the transaction of the loop's check is open now
            await session.execute(SLOW_QUERY)
            return found

        monkeypatch.setattr(router, "authenticate_token", checked_then_held)
        sent: list[dict] = []
        requested = False

        async def receive() -> dict:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/v1/me/notifications/stream",
            "raw_path": b"/v1/me/notifications/stream",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"test"),
                (b"authorization", anna["Authorization"].encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
        }
        streaming = asyncio.create_task(intake.app(scope, receive, send))
        async with asyncio.timeout(15):
            await inside.wait()
            body = b"".join(m.get("body", b"") for m in sent)
            assert b"event: ready" in body
            gone.set()  # the client goes while the loop's query is under way
            await streaming
        assert engine.pool.checkedout() == checked_out
        # Nothing holds the database: a write goes through at once.
        async with asyncio.timeout(10):
            filed = await intake.post("/v1/reports", json=POTHOLE, headers=anna)
        assert filed.status_code == 201, filed.text
