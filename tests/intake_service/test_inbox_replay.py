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
