"""The time intake promises the resident is the time the adapter tracks the case against."""

import datetime as dt

import pytest

from tests.contract.handover import case_of
from tests.helpers import POTHOLE


@pytest.mark.parametrize(
    ("category", "target"),
    [
        ("pothole", dt.timedelta(days=7)),
        ("traffic_signal_fault", dt.timedelta(hours=4)),
    ],
)
async def test_intake_expected_resolution_is_the_adapter_due_time(
    intake, intake_settings, adapter, adapter_app, category, target, clock
):
    created = await intake.post("/v1/reports", json={**POTHOLE, "category": category})
    assert created.status_code == 201, created.text
    report = created.json()
    case = await case_of(
        report["id"],
        intake_settings=intake_settings,
        adapter_app=adapter_app,
        adapter=adapter,
    )
    promised = dt.datetime.fromisoformat(report["expected_resolution_at"])
    assert dt.datetime.fromisoformat(case["due_at"]) == promised
    # Filed on a Monday morning, five working days are a calendar week; four hours are
    # four hours.
    submitted = dt.datetime.fromisoformat(report["created_at"])
    assert promised - submitted == target
    # What intake shows the resident later says the same.
    shown = (await intake.get(f"/v1/reports/{report['id']}")).json()
    assert dt.datetime.fromisoformat(shown["expected_resolution_at"]) == promised
