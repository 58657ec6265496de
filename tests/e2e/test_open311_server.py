"""An Open311 client files a request with intake; the city's CRM gets it and closes it, and
the client reads it back closed, as FixMyStreet would (XML), on the real processes; the
client's updates (comments, a reopening) reach the CRM case."""

from __future__ import annotations

import uuid

import defusedxml.ElementTree as SafeXml
import pytest
from sqlalchemy import func, select

from intake_service.db import OutboxEvent
from shared.db import make_engine
from shared.outbox import SENT
from tests.e2e.test_flow import status_of, the_only_case
from tests.helpers import OPEN311_KEY, eventually

pytestmark = pytest.mark.e2e

V2 = "/open311/v2"


def request_of(response) -> dict[str, str]:
    root = SafeXml.fromstring(response.content)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    return {child.tag: child.text or "" for child in request}


async def test_a_request_filed_by_open311_reaches_the_crm_and_comes_back_closed(stack):
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        filed = await intake.post(
            f"{V2}/requests.xml",
            data={
                "api_key": OPEN311_KEY,
                "jurisdiction_id": "wroclaw.pl",
                "service_code": "street_light_out",
                "lat": "51.107883",
                "long": "17.038538",
                "description": "Latarnia nie świeci od tygodnia",
                "attribute[lamp_post_number]": "L-1234",
                "email": "anna@example.org",
                "first_name": "Anna",
                "last_name": "Nowak",
            },
        )
        assert filed.status_code == 200, filed.text
        number = request_of(filed)["service_request_id"]

        report = await intake.get(
            "/v1/reports", params={"category": "street_light_out"}
        )
        [listed] = [r for r in report.json()["items"] if r["number"] == number]
        case = await the_only_case(crm, listed["id"])
        assert case["attributes"] == {"lamp_post_number": "L-1234"}
        # The contact the client sent reaches the CRM, for the field worker.
        assert case["reporter"]["email"] == "anna@example.org"
        assert case["reporter"]["name"] == "Anna Nowak"

        for status, note, shown in (
            ("IN_PROGRESS", None, "in_progress"),
            ("DONE", "Wymieniono żarówkę", "resolved"),
        ):
            changed = await crm.post(
                f"/api/cases/{case['case_id']}/status",
                json={"status": status, "note": note},
            )
            assert changed.status_code == 200
            await status_of(intake, listed["id"], shown)

        async def closed():
            response = await intake.get(f"{V2}/requests/{number}.xml")
            record = request_of(response)
            return record if record["status"] == "closed" else None

        record = await eventually(closed, what=f"{number} closed")
        assert record["status_notes"] == "Wymieniono żarówkę"
        assert record["agency_responsible"]
        assert "anna@example.org" not in (await intake.get(f"{V2}/requests.xml")).text

        updates = await intake.get(f"{V2}/servicerequestupdates.xml")
        root = SafeXml.fromstring(updates.content)
        statuses = [
            u.findtext("status")
            for u in root.findall("request_update")
            if u.findtext("service_request_id") == number
        ]
        assert statuses[-1] == "fixed"
        assert "in_progress" in statuses


def update_id_of(response) -> str:
    root = SafeXml.fromstring(response.content)
    assert root.tag == "service_request_updates"
    [update] = root.findall("request_update")
    return update.findtext("update_id") or ""


async def sent_everything_about(stack, report_id: str) -> bool:
    """Every event intake has for the adapter about the report went."""
    engine = make_engine(stack.databases.intake, read_only=True)
    try:
        async with engine.connect() as connection:
            unsent = await connection.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(
                    OutboxEvent.aggregate_id == uuid.UUID(report_id),
                    OutboxEvent.status != SENT,
                )
            )
    finally:
        await engine.dispose()
    return unsent == 0


async def test_updates_posted_by_an_open311_client_reach_the_crm_case_once(stack):
    comment = "Nadal jest dziura, teraz jeszcze głębsza."
    reopening = "Załatali tylko połowę, dziura wraca."
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        filed = await intake.post(
            f"{V2}/requests.xml",
            data={
                "api_key": OPEN311_KEY,
                "service_code": "pothole",
                "lat": "51.107883",
                "long": "17.038538",
                "description": "Dziura na przejściu",
            },
        )
        number = request_of(filed)["service_request_id"]
        listed = (
            await intake.get("/v1/reports", params={"category": "pothole"})
        ).json()
        [report] = [r for r in listed["items"] if r["number"] == number]
        case = await the_only_case(crm, report["id"])

        update = {
            "api_key": OPEN311_KEY,
            "service_request_id": number,
            "update_id": f"fms-{uuid.uuid4().hex[:8]}",
            "updated_datetime": "2026-12-09T08:15:00+01:00",
            "status": "OPEN",
            "description": comment,
            "email": "jan.kowalski@example.org",
            "first_name": "Jan",
            "last_name": "Kowalski",
        }
        posted = await intake.post(f"{V2}/servicerequestupdates.xml", data=update)
        assert posted.status_code == 200, posted.text
        first = update_id_of(posted)
        # The client's retry: the same answer, and nothing more for the CRM.
        again = await intake.post(f"{V2}/servicerequestupdates.xml", data=update)
        assert update_id_of(again) == first

        async def commented():
            found = (await crm.get(f"/api/cases/{case['case_id']}")).json()
            return found["comments"] or None

        [entry] = await eventually(commented, what="the comment in the CRM case")
        assert entry["comment"] == comment
        await eventually(
            lambda: sent_everything_about(stack, report["id"]),
            what="intake's events about the report sent",
        )
        found = (await crm.get(f"/api/cases/{case['case_id']}")).json()
        assert [c["comment"] for c in found["comments"]] == [comment]
        assert "jan.kowalski" not in str(found)

        # Resolved by the unit; the client's user says it is not: reopened, in JSON.
        done = await crm.post(
            f"/api/cases/{case['case_id']}/status", json={"status": "DONE"}
        )
        assert done.status_code == 200
        await status_of(intake, report["id"], "resolved")
        reopened = await intake.post(
            f"{V2}/servicerequestupdates.json",
            data=update
            | {"update_id": update["update_id"] + "-2", "description": reopening},
        )
        assert reopened.status_code == 200, reopened.text
        [answer] = reopened.json()
        assert answer["update_id"] not in (first, "")
        shown = (await intake.get(f"/v1/reports/{report['id']}")).json()
        assert shown["status"] == "reopened"

        async def reopened_in_crm():
            found = (await crm.get(f"/api/cases/{case['case_id']}")).json()
            return found if found["status"] == "REOPENED" else None

        crm_case = await eventually(reopened_in_crm, what="the CRM case reopened")
        assert crm_case["history"][-1]["note"] == reopening
        record = request_of(await intake.get(f"{V2}/requests/{number}.xml"))
        assert record["status"] == "open"
