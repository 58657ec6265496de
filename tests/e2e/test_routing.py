"""An operator changes the routing table over HTTP; residents' reports follow it to the CRM."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_flow import status_of, the_only_case
from tests.helpers import MANAGE, POTHOLE, READ, eventually

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(own_stack: Stack) -> Stack:
    """This module changes the city's configuration: a stack of its own."""
    return own_stack


WRITABLE = ("category", "unit", "area", "priority", "connector", "note")


async def replace_rules(adapter: httpx.AsyncClient, change) -> dict:
    """PUT the table in effect with its rules passed through `change`."""
    current = await adapter.get("/admin/routing", headers=READ)
    assert current.status_code == 200, current.text
    table = current.json()
    rules = [{k: rule[k] for k in WRITABLE} for rule in table["rules"]]
    made = await adapter.put(
        "/admin/routing",
        json={"units": table["units"], "rules": change(rules)},
        headers={**MANAGE, "If-Match": current.headers["ETag"]},
    )
    assert made.status_code == 200, made.text
    body: dict = made.json()
    return body


async def report(intake: httpx.AsyncClient, category: str) -> str:
    created = await intake.post("/v1/reports", json={**POTHOLE, "category": category})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_reports_follow_the_routing_table_an_operator_sets(stack):
    async with (
        stack.intake_client() as intake,
        stack.crm_client() as crm,
        httpx.AsyncClient(base_url=stack.adapter) as adapter,
    ):
        # Benches go to the crisis centre from now on, and floods have no rule at all.
        await replace_rules(
            adapter,
            lambda rules: [
                {**r, "unit": "czk"} if r["category"] == "damaged_bench" else r
                for r in rules
                if r["category"] != "flooding"
            ],
        )

        bench = await report(intake, "damaged_bench")
        case = await the_only_case(crm, bench)
        assert (case["unit"], case["category"]) == ("czk", "damaged_bench")
        submitted = await status_of(intake, bench, "submitted")
        assert submitted["unit"]["code"] == "czk"

        # A flood is held by the adapter, not dropped, until a rule covers it.
        flood = await report(intake, "flooding")

        async def held():
            listed = await adapter.get("/admin/unroutable", headers=READ)
            ids = [item["report_id"] for item in listed.json()["items"]]
            return ids if flood in ids else None

        await eventually(held, what="the flood listed as unroutable")
        assert (
            await crm.get("/api/cases", params={"external_ref": flood})
        ).json() == []
        assert (await intake.get(f"/v1/reports/{flood}")).json()["status"] == "received"

        await replace_rules(
            adapter,
            lambda rules: [*rules, {"category": "flooding", "unit": "ekosystem"}],
        )
        case = await the_only_case(crm, flood)
        assert (case["unit"], case["category"]) == ("ekosystem", "flooding")
        submitted = await status_of(intake, flood, "submitted")
        assert submitted["unit"]["code"] == "ekosystem"
        assert (await adapter.get("/admin/unroutable", headers=READ)).json()[
            "items"
        ] == []
