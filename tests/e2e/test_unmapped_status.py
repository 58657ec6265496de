"""A CRM status code nobody mapped, end to end: held, shown to operators, mapped, told."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from crm_adapter.cases.models import Case
from shared.db import make_engine
from tests.e2e.conftest import Stack
from tests.e2e.test_flow import status_of, the_only_case
from tests.helpers import (
    MANAGE,
    POTHOLE,
    READ,
    eventually,
    folder_mailbox,
    register_and_sign_in,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(own_stack: Stack) -> Stack:
    """This module changes the city's configuration: a stack of its own."""
    return own_stack


async def crm_status_of(stack, report_id: str) -> str | None:
    """The raw CRM code the adapter keeps on the report's case."""
    engine = make_engine(stack.databases.adapter, read_only=True)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(
                select(Case.crm_status).where(Case.report_id == uuid.UUID(report_id))
            )
    finally:
        await engine.dispose()


async def test_a_code_the_city_added_is_held_until_an_operator_maps_it(stack):
    async with (
        stack.intake_client() as intake,
        stack.crm_client() as crm,
        httpx.AsyncClient(base_url=stack.adapter) as adapter,
    ):
        headers = await register_and_sign_in(
            intake,
            f"held-{uuid.uuid4().hex[:8]}@example.org",
            lang="en",
            mailbox=folder_mailbox(stack.mail_dir),
        )
        created = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]
        case = await the_only_case(crm, report_id)
        await status_of(intake, report_id, "submitted")

        # The city added WAITING_FOR_PARTS to its CRM and nobody told the adapter.
        moved = await crm.post(
            f"/api/cases/{case['case_id']}/status",
            json={"status": "WAITING_FOR_PARTS", "note": "Czekamy na asfalt"},
        )
        assert moved.status_code == 200, moved.text

        async def held() -> dict | None:
            overview = (await adapter.get("/admin/unmapped", headers=READ)).json()
            mine = [i for i in overview["items"] if i["report_id"] == report_id]
            return overview if mine else None

        overview = await eventually(held, what="the change held for an operator")
        assert [(c["crm_code"], c["held"]) for c in overview["codes"]] == [
            ("WAITING_FOR_PARTS", 1)
        ]
        [item] = overview["items"]
        assert (item["crm_case_id"], item["note"]) == (
            case["case_id"],
            "Czekamy na asfalt",
        )
        # Never guessed: the resident still sees the last status the adapter understood.
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert report["status"] == "submitted"
        assert await crm_status_of(stack, report_id) == "WAITING_FOR_PARTS"

        mapped = await adapter.put(
            "/admin/status-mappings/rest_json/WAITING_FOR_PARTS",
            json={"status": "in_progress"},
            headers=MANAGE,
        )
        assert mapped.status_code == 200, mapped.text
        assert mapped.json()["reapplied"] == 1

        in_progress = await status_of(intake, report_id, "in_progress")
        assert in_progress["status_history"][-1]["note"] == "Czekamy na asfalt"
        assert await crm_status_of(stack, report_id) == "WAITING_FOR_PARTS"

        async def told() -> list[dict] | None:
            items = (await intake.get("/v1/me/notifications", headers=headers)).json()[
                "items"
            ]
            return [n for n in items if n["status"] == "in_progress"] or None

        [notification] = await eventually(told, what="the resident told")
        assert notification["report_id"] == report_id
        left = (await adapter.get("/admin/unmapped", headers=READ)).json()
        assert left == {"codes": [], "items": []}
        listed = (
            await adapter.get(
                "/admin/status-mappings",
                params={"connector": "rest_json"},
                headers=READ,
            )
        ).json()
        assert {
            (m["crm_code"], m["status"], m["changed_by"])
            for m in listed
            if m["crm_code"] == "WAITING_FOR_PARTS"
        } == {("WAITING_FOR_PARTS", "in_progress", "city-manager")}

        # From now on the code passes straight through.
        await crm.post(f"/api/cases/{case['case_id']}/status", json={"status": "DONE"})
        await status_of(intake, report_id, "resolved")
        await crm.post(
            f"/api/cases/{case['case_id']}/status",
            json={"status": "WAITING_FOR_PARTS"},
        )
        await status_of(intake, report_id, "in_progress")
