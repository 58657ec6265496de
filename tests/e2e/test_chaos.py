"""Reports keep their promise through a failing CRM: the real processes, the simulator failing
creates (before and after committing them), sending every webhook twice and out of order.

The checker (RELIABILITY §7.3, §7.4): every report is exactly one case at the CRM (lost = ∅,
duplicated = ∅, unexpected = ∅), every report ends in the status the CRM gave it last, and
every resident-visible history moves forward only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import FAST_RETRIES, Stack, StackOfItsOwn
from tests.helpers import MANAGE, POTHOLE, eventually

pytestmark = pytest.mark.e2e

REPORTS = 16

FAULTS = {
    "rules": [
        # At least three creates take effect with the answer lost, two fail outright ...
        {"kind": "reset_after_commit", "count": 3, "operations": ["create"]},
        {"kind": "error", "count": 2, "operations": ["create"]},
        # ... and then 30% of them fail, and some more take effect unanswered.
        {"kind": "error", "rate": 0.3, "operations": ["create"]},
        {"kind": "reset_after_commit", "rate": 0.1, "operations": ["create"]},
    ],
    "webhooks": {"duplicate": True, "order": "shuffled", "hold_seconds": 0.5},
}


@pytest.fixture(scope="module")
def chaos_stack(backend: str, stack_of_its_own: StackOfItsOwn) -> Iterator[Stack]:
    yield from stack_of_its_own(backend, "chaos", settings=FAST_RETRIES)


def final_crm_status(index: int) -> tuple[str, str]:
    """Every fourth report is refused by the unit, the others are fixed."""
    return ("CANNOT_FIX", "rejected") if index % 4 == 3 else ("DONE", "resolved")


async def test_every_report_is_one_case_and_ends_right_through_a_failing_crm(
    chaos_stack,
):
    async with (
        chaos_stack.intake_client() as intake,
        chaos_stack.crm_client() as crm,
    ):
        assert (await crm.put("/_sim/faults", json=FAULTS)).status_code == 200
        report_ids = []
        for index in range(REPORTS):
            report = POTHOLE | {
                "location": {"lat": 51.1097 + index * 0.001, "lon": 17.0326},
                "description": f"Dziura numer {index}",
            }
            created = await intake.post("/v1/reports", json=report)
            assert created.status_code == 201, created.text
            report_ids.append(created.json()["id"])

        async def all_submitted():
            statuses = [
                (await intake.get(f"/v1/reports/{r}")).json()["status"]
                for r in report_ids
            ]
            return statuses if set(statuses) == {"submitted"} else None

        await eventually(all_submitted, within=90, what="every report submitted")

        # Exactly one case per report, and no case for anything else.
        everything = (await crm.get("/api/cases")).json()
        assert sorted(c["external_ref"] for c in everything) == sorted(report_ids)
        cases = {c["external_ref"]: c["case_id"] for c in everything}

        # The unit works on every case; the changes reach the adapter twice and shuffled.
        for step in ("IN_PROGRESS", "final"):
            for index, report_id in enumerate(report_ids):
                status = step if step != "final" else final_crm_status(index)[0]
                changed = await crm.post(
                    f"/api/cases/{cases[report_id]}/status", json={"status": status}
                )
                assert changed.status_code == 200

        async def all_final():
            reports = [
                (await intake.get(f"/v1/reports/{r}")).json() for r in report_ids
            ]
            done = all(
                report["status"] == final_crm_status(index)[1]
                for index, report in enumerate(reports)
            )
            return reports if done else None

        reports = await eventually(all_final, within=90, what="every final status")
        for index, report in enumerate(reports):
            final = final_crm_status(index)[1]
            history = [h["status"] for h in report["status_history"]]
            # In order, each status once: a change that arrived after a newer one goes
            # into the history in its place (superseded), never applied backwards.
            assert history in (
                ["received", "submitted", "in_progress", final],
                ["received", "submitted", final],
            ), history
            times = [
                dt.datetime.fromisoformat(h["changed_at"])
                for h in report["status_history"]
            ]
            assert times == sorted(times)

        # The faults happened: the ambiguous creates were found by look-up, not redone.
        injected = (await crm.get("/_sim/faults")).json()["injected"]
        assert injected["reset_after_commit"] >= 3
        assert injected["error"] >= 2
        again = (await crm.get("/api/cases")).json()
        assert len(again) == REPORTS

        async def all_webhooks_acknowledged():
            webhooks = (await crm.get("/api/webhooks")).json()
            return all(w["delivered"] for w in webhooks) and webhooks

        # Stale changes held back behind newer ones may still be on their way: they too
        # are acknowledged (and change nothing).
        webhooks = await eventually(
            all_webhooks_acknowledged, what="every webhook acked"
        )
        assert len(webhooks) == 2 * REPORTS

    async with httpx.AsyncClient(base_url=chaos_stack.adapter, headers=MANAGE) as admin:
        for state in ("dead", "pending"):
            listed = await admin.get("/admin/deliveries", params={"state": state})
            assert listed.json()["items"] == [], state
        creations = await all_creations(admin)
        assert sorted(creations) == sorted(report_ids)
        outcomes: list[str] = []
        for case_id in creations.values():
            delivery = (await admin.get(f"/admin/deliveries/{case_id}")).json()
            assert delivery["state"] == "done"
            outcomes += [a["outcome"] for a in delivery["log"]]
        # Each create that took effect unanswered was found by the next attempt's look-up.
        assert outcomes.count("skipped_by_lookup") == injected["reset_after_commit"]
        assert outcomes.count("delivered") == REPORTS - outcomes.count(
            "skipped_by_lookup"
        )
        assert outcomes.count("retry") >= injected["reset_after_commit"] + 2


async def all_creations(admin: httpx.AsyncClient) -> dict[str, str]:
    """Each report's case id, from the adapter's case creations (newest first, paged)."""
    found: dict[str, str] = {}
    cursor = None
    while True:
        params = {"kind": "create"} | ({"cursor": cursor} if cursor else {})
        page = (await admin.get("/admin/deliveries", params=params)).json()
        found |= {item["report_id"]: item["id"] for item in page["items"]}
        if (cursor := page["next_cursor"]) is None:
            return found
