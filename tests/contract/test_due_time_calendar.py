"""In another city (Munich: Berlin time, Bavarian holidays) intake and the adapter count the
same working days: the time promised to the resident is the case's due time."""

import datetime as dt

import pytest

from shared.sla import calendar, due_at
from tests.contract.handover import case_of
from tests.helpers import POTHOLE

MUNICH = {"time_zone": "Europe/Berlin", "holidays": "DE-BY"}
BAVARIA = calendar("Europe/Berlin", "DE-BY")

WEDNESDAY_BEFORE_ASCENSION = dt.datetime(2026, 5, 13, 10, 0, tzinfo=BAVARIA.zone)
"""Ascension Day (Thursday 14 May 2026) is a holiday in Bavaria, not in Poland."""


@pytest.fixture
def intake_settings(intake_settings):
    return intake_settings.model_copy(update=MUNICH)


@pytest.fixture
def adapter_settings(adapter_settings):
    return adapter_settings.model_copy(update=MUNICH)


async def test_intake_and_the_adapter_count_in_the_citys_calendar(
    intake, intake_settings, adapter, adapter_app, clock
):
    assert intake_settings.calendar == BAVARIA
    assert adapter_app.state.settings.calendar == BAVARIA
    clock.set(WEDNESDAY_BEFORE_ASCENSION)
    created = await intake.post("/v1/reports", json=POTHOLE)
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
    # Five working days without Ascension Day: Thursday 21 May at the time it was filed
    # (the clock ticks on while the request runs). Poland's would be Wednesday 20 May.
    submitted = dt.datetime.fromisoformat(report["created_at"])
    in_munich = dt.datetime(2026, 5, 21, 10, 0, tzinfo=BAVARIA.zone)
    assert dt.timedelta(0) <= promised - in_munich < dt.timedelta(minutes=1)
    assert promised == due_at(submitted, calendar=BAVARIA, working_days=5)
    in_poland = due_at(
        submitted, calendar=calendar("Europe/Warsaw", "PL"), working_days=5
    )
    assert promised - in_poland == dt.timedelta(days=1)
