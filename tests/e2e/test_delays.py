"""Residents are told of delays, over the real processes: a CRM that keeps failing, a case the
CRM refused until an operator replays it, and intake unable to reach the adapter. The notice
periods are set to about a second, so that each delay passes in moments."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.e2e.conftest import FAST_RETRIES, Stack, StackOfItsOwn
from tests.helpers import MANAGE, POTHOLE, READ, eventually

pytestmark = pytest.mark.e2e

NOTICE_MINUTES = "0.02"  # 1.2 s

HELD_UP = {
    "en": "The city's system is not answering just now. Your report is safe and will "
    "be passed on as soon as it answers.",
    "pl": "System miasta chwilowo nie odpowiada. Twoje zgłoszenie jest bezpieczne i "
    "zostanie przekazane, gdy tylko zacznie odpowiadać.",
    "de": "Das System der Stadt antwortet gerade nicht. Ihre Meldung ist sicher und "
    "wird weitergeleitet, sobald es wieder antwortet.",
}
STOPPED = {
    "en": "Passing your report on has stopped. The city's staff have been alerted and "
    "will send it again.",
    "pl": "Przekazywanie Twojego zgłoszenia zostało wstrzymane. Pracownicy miasta "
    "zostali powiadomieni i wyślą je ponownie.",
    "de": "Die Weiterleitung Ihrer Meldung wurde angehalten. Die Mitarbeitenden der "
    "Stadt sind informiert und senden sie erneut.",
}


@pytest.fixture(scope="module")
def delays_stack(backend: str, stack_of_its_own: StackOfItsOwn) -> Iterator[Stack]:
    settings = FAST_RETRIES | {
        "ADAPTER_DELAY_NOTICE_MINUTES": NOTICE_MINUTES,
        "INTAKE_DELAY_NOTICE_MINUTES": NOTICE_MINUTES,
    }
    yield from stack_of_its_own(backend, "delays", settings=settings)


@pytest.fixture
async def crm(delays_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The simulator's client; whatever faults a test sets are gone after it."""
    async with delays_stack.crm_client() as client:
        yield client
        assert (await client.delete("/_sim/faults")).status_code in (200, 204)


async def file_report(intake: httpx.AsyncClient) -> str:
    created = await intake.post("/v1/reports", json=POTHOLE)
    assert created.status_code == 201, created.text
    assert created.json()["delay"] is None
    return str(created.json()["id"])


async def noted(intake: httpx.AsyncClient, report_id: str, *, dead: bool) -> dict:
    """The report once its resident is shown a delay (`dead` or not)."""

    async def probe() -> dict | None:
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        delay = report["delay"]
        return report if delay is not None and delay["dead"] is dead else None

    return await eventually(probe, within=30, what=f"delay note on {report_id}")


async def notes_in_every_language(intake: httpx.AsyncClient, report_id: str) -> dict:
    notes = {}
    for lang in ("pl", "en", "de"):
        response = await intake.get(
            f"/v1/reports/{report_id}", headers={"Accept-Language": lang}
        )
        assert response.headers["content-language"] == lang
        notes[lang] = response.json()["delay"]["note"]
    return notes


async def submitted_without_a_note(intake: httpx.AsyncClient, report_id: str) -> dict:
    async def probe() -> dict | None:
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        done = report["status"] == "submitted" and report["delay"] is None
        return report if done else None

    return await eventually(probe, within=30, what=f"{report_id} submitted")


async def test_a_crm_that_keeps_failing_shows_the_note_until_the_case_is_created(
    delays_stack, crm
):
    async with delays_stack.intake_client() as intake:
        unavailable = {"kind": "error", "status": 503, "operations": ["create"]}
        assert (
            await crm.put("/_sim/faults", json={"rules": [unavailable]})
        ).status_code == 200
        report_id = await file_report(intake)

        report = await noted(intake, report_id, dead=False)
        assert report["status"] == "received"
        assert await notes_in_every_language(intake, report_id) == HELD_UP

        assert (await crm.delete("/_sim/faults")).status_code in (200, 204)
        submitted = await submitted_without_a_note(intake, report_id)
        assert [h["status"] for h in submitted["status_history"]] == [
            "received",
            "submitted",
        ]
    cases = (await crm.get("/api/cases", params={"external_ref": report_id})).json()
    assert len(cases) == 1


async def test_a_refused_case_says_it_stopped_until_an_operator_replays_it(
    delays_stack, crm
):
    async with (
        delays_stack.intake_client() as intake,
        httpx.AsyncClient(base_url=delays_stack.adapter) as adapter,
    ):
        refused = {"kind": "error", "status": 422, "count": 1, "operations": ["create"]}
        assert (
            await crm.put("/_sim/faults", json={"rules": [refused]})
        ).status_code == 200
        report_id = await file_report(intake)

        await noted(intake, report_id, dead=True)
        assert await notes_in_every_language(intake, report_id) == STOPPED

        [case] = (
            await adapter.get(
                "/admin/cases", params={"report_id": report_id}, headers=READ
            )
        ).json()["items"]
        assert (case["state"], case["delay"]) == ("dead", "dead")
        replayed = await adapter.post(
            f"/admin/deliveries/{case['id']}/replay",
            json={"reason": "CRM category list fixed"},
            headers=MANAGE,
        )
        assert replayed.status_code == 200, replayed.text

        await submitted_without_a_note(intake, report_id)
        exported = await adapter.get(
            "/admin/cases.csv", params={"report_id": report_id}, headers=READ
        )
        header, row = csv.reader(io.StringIO(exported.content.decode("utf-8-sig")))
        cells = dict(zip(header, row, strict=True))
        assert (cells["delivery_state"], cells["delay"], cells["status"]) == (
            "created",
            "",
            "submitted",
        )


async def test_intake_that_cannot_reach_the_adapter_shows_the_note(delays_stack):
    processes = delays_stack.processes
    async with delays_stack.intake_client() as intake:
        await asyncio.to_thread(processes.kill, "adapter")
        try:
            report_id = await file_report(intake)
            report = await noted(intake, report_id, dead=False)
            assert report["status"] == "received"
            assert await notes_in_every_language(intake, report_id) == HELD_UP
        finally:
            await asyncio.to_thread(processes.restart, "adapter")
        await submitted_without_a_note(intake, report_id)
