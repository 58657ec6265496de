"""Feedback over HTTP: a resolved report the resident says is not fixed goes back to the CRM."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from crm_adapter.db import OutboxEvent
from shared.db import make_engine
from shared.outbox import SENT
from tests.e2e.test_flow import status_of, the_only_case
from tests.helpers import POTHOLE, eventually, folder_mailbox, register_and_sign_in

pytestmark = pytest.mark.e2e

COMMENT = "Dziurę zasypano piaskiem, po deszczu znowu jest."


async def adapter_outbox_drained(stack) -> bool:
    """Everything the adapter has to tell intake has been delivered."""
    engine = make_engine(stack.databases.adapter, read_only=True)
    try:
        async with engine.connect() as connection:
            unsent = await connection.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.status != SENT)
            )
    finally:
        await engine.dispose()
    return unsent == 0


async def test_not_fixed_reopens_the_crm_case_and_the_report_once(stack):
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        headers = await register_and_sign_in(
            intake,
            f"fb-{uuid.uuid4().hex[:8]}@example.org",
            lang="en",
            mailbox=folder_mailbox(stack.mail_dir),
        )
        created = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]
        case = await the_only_case(crm, report_id)
        await status_of(intake, report_id, "submitted")
        done = await crm.post(
            f"/api/cases/{case['case_id']}/status", json={"status": "DONE"}
        )
        assert done.status_code == 200
        await status_of(intake, report_id, "resolved")

        async def asked():
            items = (await intake.get("/v1/me/notifications", headers=headers)).json()[
                "items"
            ]
            found = [n for n in items if n["kind"] == "feedback_requested"]
            return found or None

        [request] = await eventually(asked, what="a feedback request")
        assert (request["report_id"], request["status"]) == (report_id, "resolved")
        assert "Was it really fixed?" in request["text"]

        answer = await intake.post(
            f"/v1/reports/{report_id}/feedback",
            json={"fixed": False, "rating": 2, "comment": COMMENT},
            headers=headers,
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["reopened"] is True
        # At once for the resident, before the CRM has heard of it.
        assert (await intake.get(f"/v1/reports/{report_id}")).json()[
            "status"
        ] == "reopened"

        async def reopened_in_crm():
            found = (await crm.get(f"/api/cases/{case['case_id']}")).json()
            return found if found["status"] == "REOPENED" else None

        crm_case = await eventually(reopened_in_crm, what="the CRM case reopened")
        assert [(h["status"], h["note"]) for h in crm_case["history"]] == [
            ("NEW", None),
            ("DONE", None),
            ("REOPENED", COMMENT),
        ]

        # The CRM's REOPENED comes back as a webhook; wait until the adapter has it and
        # has told intake all it has to say.
        async def reopen_webhook_taken():
            deliveries = (await crm.get("/api/webhooks")).json()
            return any(
                d["case_id"] == case["case_id"]
                and d["status"] == "REOPENED"
                and d["delivered"]
                for d in deliveries
            )

        await eventually(reopen_webhook_taken, what="the REOPENED webhook taken")
        await eventually(
            lambda: adapter_outbox_drained(stack), what="the adapter's outbox sent"
        )

        mine = (await intake.get("/v1/me/reports", headers=headers)).json()["items"]
        [report] = [r for r in mine if r["id"] == report_id]
        assert report["status"] == "reopened"
        assert [(h["status"], h["note"]) for h in report["status_history"]] == [
            ("received", None),
            ("submitted", None),
            ("resolved", None),
            ("reopened", COMMENT),
        ]
        public = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert public["feedback"] == {"fixed": False}
        assert COMMENT not in str(public)

        # The unit's next step after the reopen reaches the resident as usual.
        moved = await crm.post(
            f"/api/cases/{case['case_id']}/status",
            json={"status": "IN_PROGRESS", "note": "Poprawimy"},
        )
        assert moved.status_code == 200
        in_progress = await status_of(intake, report_id, "in_progress")
        assert [h["status"] for h in in_progress["status_history"]][-2:] == [
            "reopened",
            "in_progress",
        ]
