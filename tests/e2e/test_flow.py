"""A report's whole path over HTTP: intake → adapter → CRM → status back → the resident."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from intake_service.notifications.models import Notification
from shared.db import make_engine
from tests.helpers import POTHOLE, eventually, folder_mailbox, register_and_sign_in
from tests.images import RED, WROCLAW, assert_pixels_only, encode, gps_exif, with_corner

pytestmark = pytest.mark.e2e

EXPECTED_TEXTS = {
    "pl": ("Dziura w jezdni", "w realizacji", "załatwione"),
    "de": ("Schlagloch", "in Bearbeitung", "erledigt"),
}


async def the_only_case(crm, report_id: str) -> dict:
    async def probe():
        cases = (await crm.get("/api/cases", params={"external_ref": report_id})).json()
        return cases or None

    cases = await eventually(probe, what=f"a CRM case for {report_id}")
    assert len(cases) == 1, cases
    return cases[0]


async def status_of(intake, report_id: str, wanted: str) -> dict:
    async def probe():
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        return report if report["status"] == wanted else None

    return await eventually(probe, what=f"report {report_id} {wanted}")


@pytest.mark.parametrize("lang", ["pl", "de"])
async def test_named_pothole_goes_round_trip_and_the_resident_is_told(stack, lang):
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        # The resident reads the code from the mail (a file of the default folder mailer)
        # and verifies the address: only then are they told about their reports.
        headers = await register_and_sign_in(
            intake,
            f"{lang}-{uuid.uuid4().hex[:8]}@example.org",
            lang=lang,
            mailbox=folder_mailbox(stack.mail_dir),
        )
        created = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]
        assert created.json()["status"] == "received"

        case = await the_only_case(crm, report_id)
        assert (case["unit"], case["category"], case["status"]) == (
            "zdium",
            "pothole",
            "NEW",
        )
        submitted = await status_of(intake, report_id, "submitted")
        assert submitted["unit"]["code"] == "zdium"

        moved = await crm.post(
            f"/api/cases/{case['case_id']}/status",
            json={"status": "IN_PROGRESS", "note": "Ekipa w drodze"},
        )
        assert moved.status_code == 200
        in_progress = await status_of(intake, report_id, "in_progress")
        assert in_progress["status_history"][-1]["note"] == "Ekipa w drodze"

        assert (
            await crm.post(
                f"/api/cases/{case['case_id']}/status", json={"status": "DONE"}
            )
        ).status_code == 200
        resolved = await status_of(intake, report_id, "resolved")
        assert [h["status"] for h in resolved["status_history"]] == [
            "received",
            "submitted",
            "in_progress",
            "resolved",
        ]

        async def three_notifications():
            items = (await intake.get("/v1/me/notifications", headers=headers)).json()[
                "items"
            ]
            return items if len(items) == 3 else None

        everything = await eventually(three_notifications, what="three notifications")
        # Closing the report also asks its reporter whether it was really fixed.
        asked = [n for n in everything if n["kind"] == "feedback_requested"]
        assert [(n["status"], n["report_id"]) for n in asked] == [
            ("resolved", report_id)
        ]
        items = [n for n in everything if n["kind"] == "status_changed"]
        category, in_progress_name, resolved_name = EXPECTED_TEXTS[lang]
        assert [n["status"] for n in items] == ["resolved", "in_progress"]
        assert all(n["report_id"] == report_id for n in items)
        assert all(
            category in n["text"] and created.json()["number"] in n["text"]
            for n in items
        )
        assert resolved_name in items[0]["text"]
        assert in_progress_name in items[1]["text"]
        assert "Ekipa w drodze" in items[1]["text"]
        still = (await crm.get("/api/cases", params={"external_ref": report_id})).json()
        assert len(still) == 1


async def test_anonymous_container_report_reaches_ekosystem_and_notifies_nobody(stack):
    await anonymous_container_round_trip(stack)


async def test_separate_worker_processes_carry_the_same_flow(stack_with_workers):
    await anonymous_container_round_trip(stack_with_workers)


async def anonymous_container_round_trip(stack) -> None:
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        created = await intake.post(
            "/v1/reports",
            json={
                "category": "overflowing_container",
                "attributes": {
                    "waste_type": "paper",
                    "container_address": "ul. Ruska 10",
                },
                "location": {"lat": 51.1079, "lon": 17.0385},
                "description": "Pojemnik przepełniony od tygodnia",
            },
        )
        assert created.status_code == 201
        report_id = created.json()["id"]
        case = await the_only_case(crm, report_id)
        assert case["unit"] == "ekosystem"
        # The category's extra fields reach the CRM with the case.
        assert case["attributes"] == {
            "waste_type": "paper",
            "container_address": "ul. Ruska 10",
        }
        await crm.post(f"/api/cases/{case['case_id']}/status", json={"status": "DONE"})
        resolved = await status_of(intake, report_id, "resolved")
        assert resolved["unit"]["code"] == "ekosystem"

    engine = make_engine(stack.databases.intake, read_only=True)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.report_id == uuid.UUID(report_id))
            )
    finally:
        await engine.dispose()
    assert count == 0


async def test_photos_travel_over_the_network_and_oversized_ones_are_cut_off(stack):
    photo = encode(with_corner((1600, 1200), RED), "JPEG", exif=gps_exif(*WROCLAW))
    report = {k: v for k, v in POTHOLE.items() if k != "location"}
    async with stack.intake_client() as intake, stack.crm_client() as crm:
        created = await intake.post(
            "/v1/reports",
            files=[
                ("report", (None, json.dumps(report), "application/json")),
                ("photos", ("IMG_1.jpg", photo, "image/jpeg")),
            ],
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["location_source"] == "photo"
        served = await intake.get(body["photos"][0]["url"])
        assert served.status_code == 200
        assert_pixels_only(served.content)
        assert (await the_only_case(crm, body["id"]))["category"] == "pothole"

        # 16 MB of "photo": refused with a problem, not a broken connection.
        huge = b"\xff\xd8\xff" + bytes(16 * 1024 * 1024)
        refused = await intake.post(
            "/v1/reports",
            files=[
                ("report", (None, json.dumps(POTHOLE), "application/json")),
                ("photos", ("huge.jpg", huge, "image/jpeg")),
            ],
        )
        assert refused.status_code == 413
        assert refused.json()["type"].endswith("photo-file-too-large")
