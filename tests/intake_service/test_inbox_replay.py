"""Events intake kept because it could not act on them: listed for operators, replayed."""

import uuid

from shared.contracts import ReportStatus
from tests.helpers import MANAGE, READ
from tests.signed import status_event

INBOX = "/v1/operator/inbox"


async def test_an_event_about_an_unknown_report_is_listed_and_kept_on_replay(intake):
    report_id = uuid.uuid4()
    body, headers = status_event(report_id, ReportStatus.IN_PROGRESS, 1)
    assert (
        await intake.post("/internal/events", content=body, headers=headers)
    ).status_code == 202
    listed = await intake.get(INBOX, headers=READ)
    assert listed.status_code == 200
    [kept] = listed.json()
    assert (kept["source"], kept["message_type"], kept["last_error"]) == (
        "adapter",
        "report.status_changed.v1",
        "unknown report",
    )

    replayed = await intake.post(
        f"{INBOX}/{kept['id']}/replay",
        json={"reason": "looking for the report"},
        headers=MANAGE,
    )
    assert replayed.status_code == 200
    assert (replayed.json()["handled_at"], replayed.json()["last_error"]) == (
        None,
        "unknown report",
    )
    log = (await intake.get("/v1/operator/actions", headers=MANAGE)).json()["items"]
    assert [(e["action"], e["target_id"]) for e in log] == [
        ("inbox.replay", str(kept["id"]))
    ]
    assert (
        await intake.post(f"{INBOX}/{kept['id']}/replay", headers=READ)
    ).status_code == 403


async def test_an_id_past_the_column_is_a_422_and_the_largest_a_404(intake):
    """Ids are 32-bit integers, as the document says; a larger one is not sent to the
    database, which would refuse it (a 500 on PostgreSQL)."""
    spec = (await intake.get("/openapi.json")).json()
    operation = spec["paths"][f"{INBOX}/{{message_id}}/replay"]["post"]
    [parameter] = [p for p in operation["parameters"] if p["name"] == "message_id"]
    largest = int(parameter["schema"]["maximum"])
    assert largest == 2**31 - 1
    missing = await intake.post(f"{INBOX}/{largest}/replay", headers=MANAGE)
    assert missing.status_code == 404
    for past in (largest + 1, 2**63):
        response = await intake.post(f"{INBOX}/{past}/replay", headers=MANAGE)
        assert response.status_code == 422
