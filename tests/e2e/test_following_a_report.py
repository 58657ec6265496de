"""One report followed through every process's log by the trace its app sent with it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from tests.e2e.test_flow import status_of, the_only_case
from tests.helpers import POTHOLE, eventually, folder_mailbox, register_and_sign_in

pytestmark = pytest.mark.e2e


async def logged(log: Path, trace: str, *words: str) -> str:
    """The first line of `log` in the trace `trace` holding every one of `words` (the
    process may write it a moment after the answer that the test waited for)."""

    async def probe() -> str | None:
        text = await asyncio.to_thread(log.read_text, errors="replace")
        for line in text.splitlines():
            if f"trace_id={trace}" in line and all(word in line for word in words):
                return line
        return None

    return await eventually(probe, what=f"{' '.join(words)} in {log.name}")


async def test_a_reports_trace_runs_through_intake_the_adapter_and_back(stack):
    trace = uuid.uuid4().hex
    request_id = f"app-{uuid.uuid4().hex[:12]}"
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        headers = await register_and_sign_in(
            intake,
            f"trace-{uuid.uuid4().hex[:8]}@example.org",
            mailbox=folder_mailbox(stack.mail_dir),
        )
        created = await intake.post(
            "/v1/reports",
            json=POTHOLE,
            headers=headers
            | {
                "traceparent": f"00-{trace}-{uuid.uuid4().hex[:16]}-01",
                "X-Request-ID": request_id,
            },
        )
        assert created.status_code == 201, created.text
        assert created.headers["x-request-id"] == request_id
        report_id = created.json()["id"]

        intake_log, adapter_log = stack.logs / "intake.log", stack.logs / "adapter.log"
        # The request, and the relay sending its event on.
        await logged(intake_log, trace, '"POST /v1/reports HTTP/1.1" 201', request_id)
        await logged(intake_log, trace, "outbox.sent")
        # The adapter receiving the event, opening the case and pushing it to the CRM.
        await logged(adapter_log, trace, '"POST /internal/events HTTP/1.1" 202')
        await logged(adapter_log, trace, "case.opened", report_id)
        await logged(adapter_log, trace, "case.created", report_id)

        # A field worker takes it up; the CRM's webhook starts a trace of its own, and the
        # change is applied in the report's (linked to the webhook's), so the resident's
        # notification of it is in the report's trace too.
        case = await the_only_case(crm, report_id)
        moved = await crm.post(
            f"/api/cases/{case['case_id']}/status", json={"status": "IN_PROGRESS"}
        )
        assert moved.status_code == 200
        await status_of(intake, report_id, "in_progress")
        await logged(intake_log, trace, "status.applied", "in_progress")
        await logged(intake_log, trace, "notification.sent", "channel=email")
