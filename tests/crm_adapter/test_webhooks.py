import base64
import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select

from crm_adapter.cases.models import Case
from crm_adapter.crm.mapping import status_map
from crm_adapter.db import InboxMessage, OutboxEvent
from devtools.crm_simulator.app import CaseStatus
from shared.contracts import Envelope, ReportStatusChangedV1
from shared.settings import DEV_SECRETS
from shared.signing import Signer
from tests.signed import crm_webhook, reopen_event, submitted_event

FOREIGN_SECRET = "whsec_" + base64.b64encode(b"not-the-crm-secret-at-all").decode()


@pytest.fixture
async def case_id(adapter) -> tuple[str, str]:
    """A routed case the CRM knows as CRM-000777 (as if the pusher had created it)."""
    report_id = uuid.uuid4()
    body, headers = submitted_event("pothole", report_id)
    await adapter.post("/internal/events", content=body, headers=headers)
    return "CRM-000777", str(report_id)


async def sent_events(adapter_session) -> list[ReportStatusChangedV1]:
    payloads = (
        await adapter_session.scalars(
            select(OutboxEvent.payload).order_by(OutboxEvent.seq)
        )
    ).all()
    events = [Envelope.model_validate_json(p).event for p in payloads]
    assert all(isinstance(e, ReportStatusChangedV1) for e in events)
    return events  # type: ignore[return-value]


async def crm_messages(adapter_session) -> int:
    query = select(func.count()).where(InboxMessage.source.startswith("crm:"))
    return (await adapter_session.scalar(query)) or 0


async def hook(adapter, **kwargs):
    body, headers = crm_webhook(**kwargs)
    return await adapter.post("/webhooks/crm", content=body, headers=headers)


def test_every_simulator_status_is_mapped():
    assert set(status_map("rest_json")) == {s.value for s in CaseStatus}


class TestCrmWebhook:
    async def test_maps_the_crm_status_and_passes_it_on(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        response = await hook(
            adapter,
            case_id=crm_id,
            external_ref=ref,
            status="ASSIGNED",
            version=2,
            note="Jutro",
        )
        assert response.status_code == 202
        await hook(
            adapter, case_id=crm_id, external_ref=ref, status="CANNOT_FIX", version=3
        )
        events = await sent_events(adapter_session)
        assert [(e.status, e.sequence, e.crm_status) for e in events] == [
            ("in_progress", 1, "ASSIGNED"),
            ("rejected", 2, "CANNOT_FIX"),
        ]
        assert events[0].note == "Jutro"
        assert events[0].unit == "zdium"
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.crm_case_id, case.state, case.crm_version) == (
            crm_id,
            "created",
            3,
        )

    async def test_same_update_twice_counts_once(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        update = str(uuid.uuid4())
        # The redelivery even carries a newer version: only the update id can stop it.
        for version in (2, 3):
            response = await hook(
                adapter,
                case_id=crm_id,
                external_ref=ref,
                status="DONE",
                version=version,
                update_id=update,
            )
            assert response.status_code == 202
        assert len(await sent_events(adapter_session)) == 1
        assert await crm_messages(adapter_session) == 1
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert case.crm_version == 2

    async def test_the_crm_confirming_a_reopen_is_not_passed_on_again(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        await hook(adapter, case_id=crm_id, external_ref=ref, status="DONE", version=2)
        reopen_id = uuid.uuid4()
        body, headers = reopen_event(
            uuid.UUID(ref), reopen_id=reopen_id, comment="Nadal jest"
        )
        await adapter.post("/internal/events", content=body, headers=headers)
        # The CRM reopens the case as asked, with the comment as its note.
        await hook(
            adapter,
            case_id=crm_id,
            external_ref=ref,
            status="REOPENED",
            version=3,
            note="Nadal jest",
        )
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.status, case.crm_status, case.crm_version) == (
            "reopened",
            "REOPENED",
            3,
        )
        await adapter_session.rollback()  # end the read, to see what comes next
        # The unit's next change is passed on as always.
        await hook(
            adapter, case_id=crm_id, external_ref=ref, status="IN_PROGRESS", version=4
        )
        events = await sent_events(adapter_session)
        assert [(e.status, e.sequence, e.reopen_id) for e in events] == [
            ("resolved", 1, None),
            ("reopened", 2, reopen_id),
            ("in_progress", 3, None),
        ]

    async def test_the_reporters_words_never_come_back_as_the_units_note(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        await hook(adapter, case_id=crm_id, external_ref=ref, status="DONE", version=2)
        body, headers = reopen_event(uuid.UUID(ref), comment="Nadal jest")
        await adapter.post("/internal/events", content=body, headers=headers)
        # A field worker moved the case before the CRM took our reopen; then it did.
        await hook(
            adapter, case_id=crm_id, external_ref=ref, status="IN_PROGRESS", version=3
        )
        await hook(
            adapter,
            case_id=crm_id,
            external_ref=ref,
            status="REOPENED",
            version=4,
            note="Nadal jest",
        )
        events = await sent_events(adapter_session)
        assert [(e.status, e.note) for e in events] == [
            ("resolved", None),
            ("reopened", None),
            ("in_progress", None),
            ("reopened", None),
        ]

    async def test_an_older_version_is_ignored(self, adapter, adapter_session, case_id):
        crm_id, ref = case_id
        await hook(adapter, case_id=crm_id, external_ref=ref, status="DONE", version=5)
        await hook(
            adapter, case_id=crm_id, external_ref=ref, status="IN_PROGRESS", version=4
        )
        assert [e.status for e in await sent_events(adapter_session)] == ["resolved"]

    async def test_an_unknown_code_is_held_never_guessed(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        response = await hook(
            adapter, case_id=crm_id, external_ref=ref, status="ON_HOLD", version=2
        )
        assert response.status_code == 202
        assert await sent_events(adapter_session) == []
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        # The raw code is kept; the status the resident sees is not guessed from it.
        assert (case.crm_status, case.status) == ("ON_HOLD", "received")

    async def test_a_wrong_signature_changes_nothing(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        body, headers = crm_webhook(
            case_id=crm_id, external_ref=ref, status="DONE", version=2
        )
        forged = Signer(FOREIGN_SECRET).headers(headers["webhook-id"], body)
        response = await adapter.post(
            "/webhooks/crm", content=body, headers=headers | forged
        )
        assert response.status_code == 401
        stale = crm_webhook(case_id=crm_id, external_ref=ref, status="DONE", version=2)[
            1
        ]
        stale = Signer(DEV_SECRETS["crm_webhooks"]).headers(
            stale["webhook-id"],
            body,
            now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6),
        )
        response = await adapter.post("/webhooks/crm", content=body, headers=stale)
        assert response.status_code == 401
        assert await crm_messages(adapter_session) == 0
        assert (
            await adapter_session.scalar(select(func.count()).select_from(OutboxEvent))
            == 0
        )
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.crm_status, case.crm_version, case.crm_case_id) == (None, 0, None)

    async def test_a_64_bit_version_is_stored(self, adapter, adapter_session, case_id):
        crm_id, ref = case_id
        version = 1_764_000_000_000  # a CRM counting in epoch milliseconds
        response = await hook(
            adapter, case_id=crm_id, external_ref=ref, status="DONE", version=version
        )
        assert response.status_code == 202
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert case.crm_version == version

    async def test_an_unmapped_code_leaves_the_case_as_it_was(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        await hook(
            adapter, case_id=crm_id, external_ref=ref, status="ON_HOLD", version=2
        )
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.crm_version, case.status) == (0, "received")
        await adapter_session.rollback()  # end the read, to see what comes next
        # The CRM's next change (or a replay once mapped) still applies.
        await hook(
            adapter, case_id=crm_id, external_ref=ref, status="IN_PROGRESS", version=2
        )
        assert [e.status for e in await sent_events(adapter_session)] == ["in_progress"]

    @pytest.mark.parametrize(
        "changes",
        [
            {"update_id": ""},
            {"version": None},
            {"case_id": "C" * 101},
            {"status": "X" * 51},
            {"note": "\x00"},
        ],
    )
    async def test_fields_outside_the_protocol_are_a_422(
        self, adapter, adapter_session, case_id, changes
    ):
        crm_id, ref = case_id
        body, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="DONE", version=2
        )
        raw = json.dumps(json.loads(body) | changes).encode()
        headers = Signer(DEV_SECRETS["crm_webhooks"]).headers("delivery-1", raw)
        response = await adapter.post("/webhooks/crm", content=raw, headers=headers)
        assert response.status_code == 422
        assert await crm_messages(adapter_session) == 0

    async def test_a_body_in_another_format_is_a_422(self, adapter):
        from shared.settings import DEV_SECRETS
        from shared.signing import Signer

        body = b'{"case": 1}'
        headers = Signer(DEV_SECRETS["crm_webhooks"]).headers("x", body)
        response = await adapter.post("/webhooks/crm", content=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:invalid-webhook"
