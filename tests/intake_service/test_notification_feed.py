"""The in-app feed: unread count, marking read, keyset pages, texts in today's language."""

from __future__ import annotations

from sqlalchemy import update

from intake_service.accounts.models import Account
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
