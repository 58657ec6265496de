"""An open notification stream hears of a status change within seconds, and resumes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator

import pytest

from intake_service.notifications.models import Notification
from shared.db import make_engine, make_sessionmaker
from tests.e2e.test_flow import the_only_case
from tests.helpers import POTHOLE, eventually, folder_mailbox, register_and_sign_in

pytestmark = pytest.mark.e2e


async def events(lines: AsyncIterator[str]) -> AsyncIterator[dict]:
    """Server-Sent Events as dicts (`event`, `id`, `data` parsed), comments skipped."""
    event: dict = {}
    async for line in lines:
        if not line:
            if "data" in event:
                yield event
            event = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            event[field] = json.loads(value) if field == "data" else value


async def next_event(stream: AsyncIterator[dict], kind: str) -> dict:
    async with asyncio.timeout(15):
        async for event in stream:
            if event.get("event") == kind:
                return event
    raise AssertionError(f"the stream ended before a {kind} event")


URL = "/v1/me/notifications/stream"


async def reported(stack, intake, crm) -> tuple[dict, dict, dict]:
    """A new resident's headers, their report, and its case in the CRM."""
    headers = await register_and_sign_in(
        intake,
        f"sse-{uuid.uuid4().hex[:8]}@example.org",
        mailbox=folder_mailbox(stack.mail_dir),
    )
    report = (await intake.post("/v1/reports", json=POTHOLE, headers=headers)).json()
    return headers, report, await the_only_case(crm, report["id"])


async def test_stream_delivers_changes_and_resumes_after_the_last_seen(stack):
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        headers, report, case = await reported(stack, intake, crm)

        async with intake.stream("GET", URL, headers=headers, timeout=30) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = events(response.aiter_lines())
            assert (await next_event(stream, "ready"))["data"] == {"unread_count": 0}
            await crm.post(
                f"/api/cases/{case['case_id']}/status",
                json={"status": "IN_PROGRESS", "note": "Ekipa w drodze"},
            )
            first = await next_event(stream, "notification")
        assert first["data"]["status"] == "in_progress"
        assert first["data"]["report_id"] == report["id"]
        assert "Ekipa w drodze" in first["data"]["text"]
        assert first["id"] == first["data"]["id"]

        # While nobody listens, the case is closed; a reconnect gets what it missed.
        await crm.post(f"/api/cases/{case['case_id']}/status", json={"status": "DONE"})

        async def resolved():
            feed = (await intake.get("/v1/me/notifications", headers=headers)).json()
            return feed["unread_count"] >= 2

        await eventually(resolved, what="the closing notification")
        resume = {**headers, "Last-Event-ID": first["id"]}
        async with intake.stream("GET", URL, headers=resume, timeout=30) as response:
            stream = events(response.aiter_lines())
            missed = await next_event(stream, "notification")
        assert missed["data"]["status"] == "resolved"
        assert missed["id"] != first["id"]


async def test_signing_out_ends_an_open_stream(stack):
    async with stack.intake_client() as intake:
        headers = await register_and_sign_in(
            intake,
            f"sse-out-{uuid.uuid4().hex[:8]}@example.org",
            mailbox=folder_mailbox(stack.mail_dir),
        )
        async with intake.stream("GET", URL, headers=headers, timeout=30) as response:
            stream = events(response.aiter_lines())
            await next_event(stream, "ready")
            assert (
                await intake.post("/v1/auth/logout", headers=headers)
            ).status_code == 204
            # The server closes the stream: iterating it comes to an end.
            async with asyncio.timeout(15):
                rest = [event async for event in stream]
        assert [e for e in rest if e.get("event") == "notification"] == []
        assert (await intake.get(URL, headers=headers)).status_code == 401


async def test_a_notification_committed_late_still_reaches_an_open_stream(stack):
    """A notification's time is taken before its transaction commits: one can become
    visible after a later one was sent, and must still be sent."""
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        headers, report, case = await reported(stack, intake, crm)
        account_id = (await intake.get("/v1/me", headers=headers)).json()["id"]
        async with intake.stream("GET", URL, headers=headers, timeout=30) as response:
            stream = events(response.aiter_lines())
            await next_event(stream, "ready")
            await crm.post(
                f"/api/cases/{case['case_id']}/status", json={"status": "IN_PROGRESS"}
            )
            first = await next_event(stream, "notification")
            # Another replica's notification, stamped a second before the one just sent,
            # commits only now.
            late = await commit_late(stack, account_id, report["id"], before=first)
            await crm.post(
                f"/api/cases/{case['case_id']}/status", json={"status": "DONE"}
            )
            ids: set[str] = set()
            while len(ids) < 2:
                ids.add((await next_event(stream, "notification"))["id"])
        assert late in ids


async def commit_late(stack, account_id: str, report_id: str, *, before: dict) -> str:
    """A notification of the account, made a second before `before`, committed now."""
    sent_at = dt.datetime.fromisoformat(before["data"]["created_at"])
    engine = make_engine(stack.databases.intake)
    notification_id = uuid.uuid4()
    try:
        async with make_sessionmaker(engine)() as session:
            session.add(
                Notification(
                    id=notification_id,
                    account_id=uuid.UUID(account_id),
                    report_id=uuid.UUID(report_id),
                    sequence=99,
                    status="in_progress",
                    note="Ekipa druga",
                    created_at=sent_at - dt.timedelta(seconds=1),
                )
            )
            await session.commit()
    finally:
        await engine.dispose()
    return str(notification_id)
