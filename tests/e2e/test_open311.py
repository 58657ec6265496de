"""A unit on an Open311 CRM, over the network: the report reaches the CRM through Open311
with a signed link to its photo, and a status change made in the CRM comes back by polling."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from crm_adapter.crm.models import PollCursor
from shared.db import make_engine
from tests.e2e.conftest import Stack, StackOfItsOwn
from tests.e2e.test_flow import status_of, the_only_case
from tests.helpers import route_unit_to
from tests.images import RED, encode, with_corner

pytestmark = pytest.mark.e2e

FALLEN_TREE = {
    "category": "fallen_tree",
    "location": {"lat": 51.1097, "lon": 17.0326},
    "description": "Drzewo leży na chodniku",
}


@pytest.fixture(scope="module")
def open311_stack(backend: str, stack_of_its_own: StackOfItsOwn) -> Iterator[Stack]:
    """The stack with the Open311 CRM polled every half second, in JSON."""
    yield from stack_of_its_own(
        backend,
        "open311",
        settings={
            "ADAPTER_OPEN311_POLL_SECONDS": "0.5",
            "ADAPTER_OPEN311_FORMAT": "json",
        },
    )


async def route_czk_to_open311(stack: Stack) -> None:
    """The unit `czk` (fallen trees) works with the Open311 CRM, as an operator sets it."""
    async with httpx.AsyncClient(base_url=stack.adapter) as adapter:
        await route_unit_to(adapter, "czk", "open311")


async def test_an_open311_unit_gets_the_report_and_its_status_comes_back_by_polling(
    open311_stack,
):
    stack = open311_stack
    await route_czk_to_open311(stack)
    photo = encode(with_corner((800, 600), RED), "JPEG")
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        created = await intake.post(
            "/v1/reports",
            files=[
                ("report", (None, json.dumps(FALLEN_TREE), "application/json")),
                ("photos", ("tree.jpg", photo, "image/jpeg")),
            ],
        )
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]

        case = await the_only_case(crm, report_id)
        assert (case["channel"], case["category"]) == ("open311", "fallen_tree")
        assert case["description"] == FALLEN_TREE["description"]
        # The CRM fetches the photo through its signed link, straight from intake.
        [link] = case["photos"]
        assert link.startswith(stack.intake + "/v1/photos/")
        async with httpx.AsyncClient() as outsider:
            fetched = await outsider.get(link)
            assert fetched.status_code == 200
            assert fetched.headers["content-type"] == "image/jpeg"
            tampered = await outsider.get(
                link[:-2] + ("00" if link[-2:] != "00" else "11")
            )
            assert tampered.status_code == 403

        submitted = await status_of(intake, report_id, "submitted")
        assert submitted["unit"]["code"] == "czk"

        # The field crew's change in the CRM: no webhook for Open311, the adapter polls.
        moved = await crm.post(
            f"/api/cases/{case['case_id']}/status",
            json={"status": "IN_PROGRESS", "note": "Ekipa z piłą w drodze"},
        )
        assert moved.status_code == 200
        in_progress = await status_of(intake, report_id, "in_progress")
        assert in_progress["status_history"][-1]["note"] == "Ekipa z piłą w drodze"

        await crm.post(f"/api/cases/{case['case_id']}/status", json={"status": "DONE"})
        resolved = await status_of(intake, report_id, "resolved")
        assert [h["status"] for h in resolved["status_history"]] == [
            "received",
            "submitted",
            "in_progress",
            "resolved",
        ]

        # Polled, not pushed: the simulator sent no webhook for the Open311 case.
        assert (await crm.get("/api/webhooks")).json() == []

    engine = make_engine(stack.databases.adapter, read_only=True)
    try:
        async with engine.connect() as connection:
            cursor = (
                await connection.execute(
                    select(PollCursor).where(PollCursor.connector == "open311")
                )
            ).one()
    finally:
        await engine.dispose()
    assert cursor.last_success_at is not None
    assert cursor.last_error is None
