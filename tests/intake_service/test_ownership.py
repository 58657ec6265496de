"""Another resident's token on every endpoint that takes the id of something of mine: 404,
or, where the thing is a public report, 403 saying only its reporter may (nothing of
theirs shown either way).

The table below must name every such operation: a new one fails the first test until its
check is added here.
"""

from __future__ import annotations

import pytest

from intake_service.app import create_app
from intake_service.config import Settings
from shared.contracts import ReportStatus
from tests.helpers import POTHOLE, register_and_sign_in
from tests.signed import status_event

# Operations on a resident's own things, by id (public ones and operators' are elsewhere).
OWNED = {
    "PATCH /v1/me/reports/{report_id}": {"show_name": False},
    "POST /v1/reports/{report_id}/feedback": {"fixed": False, "rating": 1},
    "PUT /v1/reports/{report_id}/feedback": {"fixed": False, "rating": 1},
    "GET /v1/reports/{report_id}/feedback": None,
    "DELETE /v1/me/devices/{device_id}": None,
}
# The feedback on a report, which anyone can see, is its reporter's to give.
REPORTERS_ONLY = {name for name in OWNED if name.endswith("/feedback")}


def test_every_owned_operation_is_checked():
    spec = create_app(Settings()).openapi()
    owned = {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if "{" in path and operation.get("security") == [{"HTTPBearer": []}]
    }
    assert owned == set(OWNED)


@pytest.mark.parametrize("operation", sorted(OWNED))
async def test_another_residents_token_finds_nothing(intake, operation):
    anna = await register_and_sign_in(intake, "anna@example.org")
    ewa = await register_and_sign_in(intake, "ewa@example.org")
    report = (await intake.post("/v1/reports", json=POTHOLE, headers=anna)).json()
    body, signed = status_event(report["id"], ReportStatus.RESOLVED, 1)
    await intake.post("/internal/events", content=body, headers=signed)
    await intake.post(
        f"/v1/reports/{report['id']}/feedback",
        json={"fixed": True, "rating": 5, "comment": "Dobra robota"},
        headers=anna,
    )
    device = (
        await intake.post(
            "/v1/me/devices", json={"platform": "ios", "token": "b" * 64}, headers=anna
        )
    ).json()
    method, template = operation.split()
    path = template.format(report_id=report["id"], device_id=device["id"])

    response = await intake.request(method, path, json=OWNED[operation], headers=ewa)

    if operation in REPORTERS_ONLY:
        assert response.status_code == 403, response.text
        assert response.json()["type"] == "urn:mam:problem:not-the-reporter"
    else:
        assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Dobra robota" not in response.text
    # Anna's things are as they were.
    mine = await intake.get(f"/v1/reports/{report['id']}/feedback", headers=anna)
    assert mine.json()["comment"] == "Dobra robota"
    devices = (await intake.get("/v1/me/devices", headers=anna)).json()
    assert [d["id"] for d in devices] == [device["id"]]


async def test_an_unverified_reporter_is_not_named_and_cannot_answer(intake):
    ola = await register_and_sign_in(intake, "ola@example.org", verified=False)
    report = (
        await intake.post(
            "/v1/reports", json=POTHOLE | {"show_name": True}, headers=ola
        )
    ).json()
    assert (await intake.get(f"/v1/reports/{report['id']}")).json()[
        "reported_by"
    ] is None
    body, signed = status_event(report["id"], ReportStatus.RESOLVED, 1)
    await intake.post("/internal/events", content=body, headers=signed)
    answer = await intake.post(
        f"/v1/reports/{report['id']}/feedback",
        json={"fixed": False, "rating": 1},
        headers=ola,
    )
    assert answer.status_code == 404
    assert (await intake.get(f"/v1/reports/{report['id']}")).json()[
        "status"
    ] == "resolved"
