""" "Me too": support counts once per account or device, and named supporters hear the news."""

import uuid

from shared.contracts import ReportStatus
from tests.helpers import POTHOLE, register_and_sign_in
from tests.signed import status_event

DEVICE = {"X-Device-Id": "install-3b1f2c9e-7d7a"}


async def file(intake, headers=None) -> str:
    response = await intake.post("/v1/reports", json=POTHOLE, headers=headers or {})
    assert response.status_code == 201
    return str(response.json()["id"])


class TestSupport:
    async def test_counts_once_per_device(self, intake):
        report_id = await file(intake)
        first = await intake.post(f"/v1/reports/{report_id}/supporters", headers=DEVICE)
        again = await intake.post(f"/v1/reports/{report_id}/supporters", headers=DEVICE)
        other = await intake.post(
            f"/v1/reports/{report_id}/supporters",
            headers={"X-Device-Id": "another-device-01"},
        )
        assert (first.status_code, again.status_code, other.status_code) == (
            201,
            200,
            201,
        )
        assert (first.json()["supporters"], again.json()["supporters"]) == (1, 1)
        assert other.json()["supporters"] == 2
        assert again.json()["counted"] is False
        assert (await intake.get(f"/v1/reports/{report_id}")).json()["supporters"] == 2

    async def test_counts_once_per_account_and_subscribes_it(self, intake):
        report_id = await file(intake)
        headers = await register_and_sign_in(intake, "wspiera@example.org", lang="en")
        first = await intake.post(
            f"/v1/reports/{report_id}/supporters", headers=headers
        )
        again = await intake.post(
            f"/v1/reports/{report_id}/supporters", headers=headers | DEVICE
        )
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["subscribed"] is True
        assert again.json()["supporters"] == 1

        body, signed = status_event(report_id, ReportStatus.IN_PROGRESS, 1)
        assert (
            await intake.post("/internal/events", content=body, headers=signed)
        ).status_code == 202
        items = (await intake.get("/v1/me/notifications", headers=headers)).json()[
            "items"
        ]
        assert [(n["report_id"], n["status"]) for n in items] == [
            (report_id, "in_progress")
        ]
        assert "in progress" in items[0]["text"]

    async def test_reporter_and_supporter_are_each_told_once(self, intake):
        reporter = await register_and_sign_in(intake, "zglasza@example.org")
        report_id = await file(intake, reporter)
        own = await intake.post(f"/v1/reports/{report_id}/supporters", headers=reporter)
        assert own.status_code == 200
        assert own.json()["supporters"] == 0
        supporter = await register_and_sign_in(intake, "tez@example.org", lang="de")
        await intake.post(f"/v1/reports/{report_id}/supporters", headers=supporter)
        body, signed = status_event(report_id, ReportStatus.RESOLVED, 1)
        await intake.post("/internal/events", content=body, headers=signed)
        for headers, word, kinds in (
            (reporter, "załatwione", ["feedback_requested", "status_changed"]),
            (supporter, "erledigt", ["status_changed"]),
        ):
            items = (await intake.get("/v1/me/notifications", headers=headers)).json()[
                "items"
            ]
            # Only the reporter is also asked whether it was really fixed.
            assert sorted(n["kind"] for n in items) == kinds
            changed = [n for n in items if n["kind"] == "status_changed"]
            assert word in changed[0]["text"]

    async def test_anonymous_support_needs_a_device_id(self, intake):
        report_id = await file(intake)
        for headers in (
            {},
            {"X-Device-Id": "short"},
            {"X-Device-Id": "has spaces in it"},
        ):
            response = await intake.post(
                f"/v1/reports/{report_id}/supporters", headers=headers
            )
            assert response.status_code == 400
            assert response.json()["type"] == "urn:mam:problem:device-id-required"

    async def test_a_closed_report_cannot_be_supported(self, intake):
        report_id = await file(intake)
        body, signed = status_event(report_id, ReportStatus.RESOLVED, 1)
        await intake.post("/internal/events", content=body, headers=signed)
        response = await intake.post(
            f"/v1/reports/{report_id}/supporters", headers=DEVICE
        )
        assert response.status_code == 409
        assert response.json()["type"] == "urn:mam:problem:report-closed"

    async def test_an_unknown_report_is_a_404(self, intake):
        response = await intake.post(
            f"/v1/reports/{uuid.uuid4()}/supporters", headers=DEVICE
        )
        assert response.status_code == 404
