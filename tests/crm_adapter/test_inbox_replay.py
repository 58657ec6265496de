"""Messages the adapter kept because it could not act on them: listed for operators, and
acted on again by a replay once the cause is mended."""

import uuid

from sqlalchemy import select, update

from crm_adapter.cases.models import Case
from shared.db import make_engine, make_sessionmaker
from tests.crm_adapter.helpers import hook
from tests.helpers import MANAGE, READ
from tests.signed import reopen_event, submitted_event

INBOX = "/admin/inbox"


async def submit(adapter, report_id: uuid.UUID) -> None:
    body, headers = submitted_event("pothole", report_id)
    assert (
        await adapter.post("/internal/events", content=body, headers=headers)
    ).status_code == 202


async def unhandled(adapter) -> list[dict]:
    response = await adapter.get(INBOX, headers=READ)
    assert response.status_code == 200
    items: list[dict] = response.json()
    return items


async def test_a_change_kept_for_an_operator_applies_once_the_cause_is_mended(
    adapter, adapter_settings
):
    first, second = uuid.uuid4(), uuid.uuid4()
    await submit(adapter, first)
    await submit(adapter, second)
    await hook(
        adapter, case_id="CRM-000001", external_ref=str(first), status="DONE", version=1
    )
    # The CRM numbered the second report's case as the first's.
    await hook(
        adapter,
        case_id="CRM-000001",
        external_ref=str(second),
        status="ASSIGNED",
        version=1,
    )
    [kept] = await unhandled(adapter)
    assert (kept["source"], kept["message_type"]) == (
        "crm:rest_json",
        "crm.status_changed",
    )
    assert "CRM-000001" in kept["last_error"]
    assert "payload" not in kept

    # Replayed as it is, it is kept again, with the reason.
    again = await adapter.post(f"{INBOX}/{kept['id']}/replay", headers=MANAGE)
    assert again.status_code == 200
    assert again.json()["handled_at"] is None
    assert "CRM-000001" in again.json()["last_error"]

    # An operator finds the first report's case gone from the CRM and lets go of its id.
    engine = make_engine(adapter_settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            await session.execute(
                update(Case)
                .where(Case.report_id == first)
                .values(crm_case_id=None, state="dead")
            )
            await session.commit()
        replayed = await adapter.post(
            f"{INBOX}/{kept['id']}/replay",
            json={"reason": "CRM restored from a backup (OPS-12)"},
            headers=MANAGE,
        )
        assert replayed.status_code == 200
        assert replayed.json()["handled_at"] is not None
        assert replayed.json()["last_error"] is None
        async with make_sessionmaker(engine)() as session:
            case = await session.scalar(select(Case).where(Case.report_id == second))
            assert case is not None
            assert (case.crm_case_id, case.status) == ("CRM-000001", "in_progress")
    finally:
        await engine.dispose()
    assert await unhandled(adapter) == []
    log = (await adapter.get("/admin/actions", headers=MANAGE)).json()["items"]
    assert [(e["action"], e["details"]["handled"]) for e in log] == [
        ("inbox.replay", True),
        ("inbox.replay", False),
    ]
    assert log[0]["details"]["reason"] == "CRM restored from a backup (OPS-12)"


async def test_an_event_from_intake_is_acted_on_when_replayed_later(adapter):
    report_id = uuid.uuid4()
    body, headers = reopen_event(report_id)
    assert (
        await adapter.post("/internal/events", content=body, headers=headers)
    ).status_code == 202
    [kept] = await unhandled(adapter)
    assert kept["last_error"] == f"no case for report {report_id}"

    await submit(adapter, report_id)
    replayed = await adapter.post(f"{INBOX}/{kept['id']}/replay", headers=MANAGE)
    assert replayed.status_code == 200
    assert replayed.json()["handled_at"] is not None
    assert await unhandled(adapter) == []


async def test_only_a_manage_key_replays_and_only_what_waits(adapter):
    report_id = uuid.uuid4()
    body, headers = reopen_event(report_id)
    await adapter.post("/internal/events", content=body, headers=headers)
    [kept] = await unhandled(adapter)
    refused = await adapter.post(f"{INBOX}/{kept['id']}/replay", headers=READ)
    assert refused.status_code == 403
    assert (await adapter.get(INBOX)).status_code == 401

    await submit(adapter, report_id)
    await adapter.post(f"{INBOX}/{kept['id']}/replay", headers=MANAGE)
    done = await adapter.post(
        f"{INBOX}/{kept['id']}/replay", headers={**MANAGE, "Accept-Language": "en"}
    )
    assert done.status_code == 409
    assert done.json()["type"] == "urn:mam:problem:inbox-message-handled"
    missing = await adapter.post(f"{INBOX}/999999/replay", headers=MANAGE)
    assert missing.status_code == 404
    assert missing.json()["title"] == "Nie ma takiej wiadomości"


async def test_an_id_past_the_column_is_a_422_and_the_largest_a_404(adapter):
    """Ids are 32-bit integers, as the document says; a larger one is not sent to the
    database, which would refuse it (a 500 on PostgreSQL)."""
    missing = await adapter.post(f"{INBOX}/{2**31 - 1}/replay", headers=MANAGE)
    assert missing.status_code == 404
    for past in (2**31, 2**63):
        response = await adapter.post(f"{INBOX}/{past}/replay", headers=MANAGE)
        assert response.status_code == 422
