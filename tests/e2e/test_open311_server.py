"""An Open311 client files a request with intake; the city's CRM gets it and closes it, and
the client reads it back closed, as FixMyStreet would (XML), on the real processes."""

from __future__ import annotations

import defusedxml.ElementTree as SafeXml
import pytest

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
