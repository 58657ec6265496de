"""A city's operators add a category at intake and a unit at the adapter; residents, Open311
clients and the CRM name them alike, over HTTP between the real processes."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_flow import status_of, the_only_case
from tests.helpers import MANAGE, POTHOLE, READ, eventually

pytestmark = pytest.mark.e2e

GRAFFITI = {
    "group": "roads",
    "names": {"pl": "Graffiti", "en": "Graffiti", "de": "Graffiti"},
    "expected_resolution": {"working_days": 30},
    "duplicate_radius_m": 100,
}
GREEN = {
    "pl": "Wydział Zieleni",
    "en": "Green Spaces Department",
    "de": "Grünflächenamt",
}


@pytest.fixture(scope="module")
def stack(own_stack: Stack) -> Stack:
    """This module changes the city's categories and routing: a stack of its own."""
    return own_stack


async def test_a_new_category_and_unit_reach_residents_open311_and_the_crm(stack):
    async with (
        stack.intake_client() as intake,
        stack.crm_client() as crm,
        httpx.AsyncClient(base_url=stack.adapter) as adapter,
    ):
        made = await intake.put(
            "/v1/operator/categories/graffiti", json=GRAFFITI, headers=MANAGE
        )
        assert made.status_code == 201, made.text

        # The adapter hears of it, and says no rule covers it yet.
        async def uncovered():
            table = (await adapter.get("/admin/routing", headers=READ)).json()
            coverage = table["coverage"]
            return table if coverage and coverage["uncovered"] == ["graffiti"] else None

        table = await eventually(uncovered, what="graffiti uncovered at the adapter")

        # A resident reports graffiti at once: held by the adapter, not lost.
        filed = await intake.post(
            "/v1/reports", json={**POTHOLE, "category": "graffiti"}
        )
        assert filed.status_code == 201, filed.text
        report_id = filed.json()["id"]

        async def held():
            listed = await adapter.get("/admin/unroutable", headers=READ)
            ids = [item["report_id"] for item in listed.json()["items"]]
            return ids if report_id in ids else None

        await eventually(held, what="the graffiti report held as unroutable")

        # The operator gives graffiti to a new unit, named in three languages.
        units = [
            {k: u[k] for k in ("code", "name", "connector", "names")}
            for u in table["units"]
        ]
        units.append(
            {
                "code": "zielen",
                "name": "Zieleń",
                "connector": "rest_json",
                "names": GREEN,
            }
        )
        rules = [
            {
                k: r[k]
                for k in ("category", "unit", "area", "priority", "connector", "note")
            }
            for r in table["rules"]
        ]
        changed = await adapter.put(
            "/admin/routing",
            json={
                "units": units,
                "rules": [*rules, {"category": "graffiti", "unit": "zielen"}],
            },
            headers={
                **MANAGE,
                "If-Match": f'"{table["version"]}"',
            },
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["coverage"]["uncovered"] == []

        # The held report goes to the CRM under the new unit; the resident sees its name.
        case = await the_only_case(crm, report_id)
        assert (case["unit"], case["category"]) == ("zielen", "graffiti")
        await status_of(intake, report_id, "submitted")

        async def named_in_german():
            report = (
                await intake.get(f"/v1/reports/{report_id}", params={"lang": "de"})
            ).json()
            return report if report["unit"]["name"] == "Grünflächenamt" else None

        report = await eventually(named_in_german, what="the unit's German name")
        assert report["unit"]["code"] == "zielen"

        async def offered_with_its_unit():
            listed = await intake.get("/v1/categories", params={"lang": "en"})
            graffiti = next(c for c in listed.json() if c["code"] == "graffiti")
            return graffiti if graffiti["unit"] else None

        graffiti = await eventually(offered_with_its_unit, what="the category's unit")
        assert graffiti["unit"] == {"code": "zielen", "name": "Green Spaces Department"}

        number = report["number"]
        open311 = await intake.get(
            f"/open311/v2/requests/{number}.json", params={"locale": "en"}
        )
        assert open311.status_code == 200, open311.text
        assert open311.json()[0]["agency_responsible"] == "Green Spaces Department"

        # Retired: residents can no longer choose it; the report keeps it.
        read = await intake.get("/v1/operator/categories/graffiti", headers=READ)
        retired = await intake.put(
            "/v1/operator/categories/graffiti",
            json={**GRAFFITI, "active": False},
            headers={**MANAGE, "If-Match": read.headers["ETag"]},
        )
        assert retired.status_code == 200, retired.text
        refused = await intake.post(
            "/v1/reports", json={**POTHOLE, "category": "graffiti"}
        )
        assert refused.status_code == 422
        kept = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert kept["category"]["code"] == "graffiti"
