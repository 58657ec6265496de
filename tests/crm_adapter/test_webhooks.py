import asyncio
import base64
import datetime as dt
import json
import uuid
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select, text, update

from crm_adapter.app import create_app
from crm_adapter.cases.models import Case
from crm_adapter.config import Settings
from crm_adapter.crm.connector import CHANGE_LIMITS, CrmStatusChange
from crm_adapter.crm.mapping import status_map
from crm_adapter.db import InboxMessage, OutboxEvent
from crm_adapter.statuses.models import HeldChange
from crm_adapter.statuses.receive import InvalidWebhook, parse_change
from devtools.crm_simulator.app import CaseStatus
from shared.db import make_engine, make_sessionmaker
from shared.settings import DEV_SECRETS
from shared.signing import Signer
from tests.conftest import BACKENDS
from tests.crm_adapter.helpers import crm_messages, hook, sent_events
from tests.helpers import eventually, route_unit_to, serve
from tests.signed import crm_webhook, reopen_event, submitted_event

FOREIGN_SECRET = "whsec_" + base64.b64encode(b"not-the-crm-secret-at-all").decode()


@pytest.fixture
async def case_id(adapter) -> tuple[str, str]:
    """A routed case the CRM knows as CRM-000777 (as if the pusher had created it)."""
    report_id = uuid.uuid4()
    body, headers = submitted_event("pothole", report_id)
    await adapter.post("/internal/events", content=body, headers=headers)
    return "CRM-000777", str(report_id)


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

    async def test_an_older_version_goes_to_the_history_only(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        await hook(adapter, case_id=crm_id, external_ref=ref, status="DONE", version=5)
        await hook(
            adapter,
            case_id=crm_id,
            external_ref=ref,
            status="IN_PROGRESS",
            version=4,
            note="Ekipa w drodze",
        )
        events = await sent_events(adapter_session)
        assert [(e.status, e.superseded, e.note) for e in events] == [
            ("resolved", False, None),
            ("in_progress", True, "Ekipa w drodze"),
        ]
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.status, case.crm_status, case.crm_version) == (
            "resolved",
            "DONE",
            5,
        )

    async def test_the_same_version_again_is_no_change(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        for _ in range(2):  # two update ids, one version
            await hook(
                adapter, case_id=crm_id, external_ref=ref, status="DONE", version=5
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
            # One character past the column each is stored in.
            {"update_id": "U" * 201},
            {"case_id": "C" * 101},
            {"external_ref": "R" * 201},
            {"status": "X" * 51},
            {"note": "\x00"},
            {"changed_at": "0001-01-01T00:00:00+05:00"},
            {"changed_at": 0},  # a number is not seconds since 1970
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
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:mam:problem:invalid-webhook"
        assert await crm_messages(adapter_session) == 0
        assert await sent_events(adapter_session) == []
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.crm_status, case.crm_version) == (None, 0)

    async def test_the_largest_version_the_document_allows_is_taken(
        self, adapter, case_id
    ):
        spec = (await adapter.get("/openapi.json")).json()
        body = spec["paths"]["/webhooks/crm"]["post"]["requestBody"]
        version = body["content"]["application/json"]["schema"]["properties"]["version"]
        if "exclusiveMaximum" in version:
            largest = int(version["exclusiveMaximum"]) - 1
        else:
            largest = int(version["maximum"])
        crm_id, ref = case_id
        taken = await hook(
            adapter, case_id=crm_id, external_ref=ref, status="DONE", version=largest
        )
        assert taken.status_code == 202, taken.text
        past = await hook(
            adapter,
            case_id=crm_id,
            external_ref=ref,
            status="DONE",
            version=largest + 1,
        )
        assert past.status_code == 422

    async def test_a_body_in_another_format_is_a_422(self, adapter):
        from shared.settings import DEV_SECRETS
        from shared.signing import Signer

        body = b'{"case": 1}'
        headers = Signer(DEV_SECRETS["crm_webhooks"]).headers("x", body)
        response = await adapter.post("/webhooks/crm", content=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:invalid-webhook"


def delivered(body: bytes, delivery_id: str) -> dict[str, str]:
    """Headers of a delivery the CRM signed under `delivery_id` (its `webhook-id`)."""
    return {
        "content-type": "application/json",
        **Signer(DEV_SECRETS["crm_webhooks"]).headers(delivery_id, body),
    }


class TestLongValues:
    """Standard Webhooks puts no bound on a `webhook-id`; the body's fields have theirs."""

    async def test_a_long_delivery_id_is_taken_and_recognised_when_sent_again(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        delivery = "msg_" + "7" * 496
        body, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="DONE", version=2
        )
        response = await adapter.post(
            "/webhooks/crm", content=body, headers=delivered(body, delivery)
        )
        assert response.status_code == 202
        # The same delivery again, as a sender that rebuilt its body would send it: only
        # the delivery id tells that it is the same.
        again, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="IN_PROGRESS", version=3
        )
        response = await adapter.post(
            "/webhooks/crm", content=again, headers=delivered(again, delivery)
        )
        assert response.status_code == 202
        assert [e.status for e in await sent_events(adapter_session)] == ["resolved"]
        await adapter_session.rollback()  # end the read, to see what comes next
        # Another delivery whose id differs only past the first 200 characters is new.
        other, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="REOPENED", version=4
        )
        response = await adapter.post(
            "/webhooks/crm", content=other, headers=delivered(other, delivery + "8")
        )
        assert response.status_code == 202
        assert [e.status for e in await sent_events(adapter_session)] == [
            "resolved",
            "reopened",
        ]
        assert await crm_messages(adapter_session) == 2

    async def test_a_short_delivery_id_is_kept_as_it_came(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        delivery = "msg_" + "7" * 196
        body, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="DONE", version=2
        )
        response = await adapter.post(
            "/webhooks/crm", content=body, headers=delivered(body, delivery)
        )
        assert response.status_code == 202
        stored = await adapter_session.scalar(
            select(InboxMessage.delivery_id).where(
                InboxMessage.source == "crm:rest_json"
            )
        )
        assert stored == delivery

    async def test_fields_as_long_as_their_columns_are_stored(
        self, adapter, adapter_settings, adapter_session, case_id
    ):
        _, ref = case_id
        longest = {
            "update_id": "U" * 200,
            "case_id": "C" * 100,
            "external_ref": "R" * 200,
            "status": "X" * 50,  # a code without a mapping: the change is held whole
        }
        engine = make_engine(adapter_settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                await session.execute(
                    update(Case).values(crm_case_id=longest["case_id"], state="created")
                )
                await session.commit()
        finally:
            await engine.dispose()
        response = await hook(adapter, version=2, note="N" * 4000, **longest)
        assert response.status_code == 202
        held = await adapter_session.scalar(select(HeldChange))
        assert held is not None
        assert (
            held.update_id,
            held.crm_case_id,
            held.external_ref,
            held.crm_code,
        ) == tuple(longest.values())
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.report_id, case.crm_status) == (uuid.UUID(ref), "X" * 50)


class Lenient:
    """A connector whose format lets any length through."""

    name = "lenient"

    def parse_webhook(self, body: bytes) -> CrmStatusChange:
        return CrmStatusChange(
            update_id="u-1",
            case_id="C" * 101,
            external_ref=None,
            status="DONE",
            note=None,
            version=2,
            changed_at=dt.datetime.now(dt.UTC),
        )


def test_a_field_longer_than_its_column_is_refused_whatever_the_connector():
    with pytest.raises(InvalidWebhook) as refused:
        parse_change(Lenient(), b"{}")  # type: ignore[arg-type]
    assert refused.value.status_code == 422
    assert refused.value.params == {"reason": "case_id: 101 characters, at most 100"}


def test_the_limits_of_a_change_are_those_of_its_columns():
    def length(column: Any) -> int:
        return int(column.type.length)

    stored_in: dict[str, list[Any]] = {
        "update_id": [InboxMessage.external_id, HeldChange.update_id],
        "case_id": [Case.crm_case_id, HeldChange.crm_case_id],
        "external_ref": [HeldChange.external_ref],
        "status": [Case.crm_status, HeldChange.crm_code],
    }
    assert set(CHANGE_LIMITS) == set(stored_in)
    for field, columns in stored_in.items():
        assert CHANGE_LIMITS[field] == min(length(c) for c in columns), field


def secret(label: str) -> str:
    return "whsec_" + base64.b64encode(f"crm-rotation-{label}".encode()).decode()


def signed_at(
    body: bytes, *, minutes: float, secret: str = DEV_SECRETS["crm_webhooks"]
) -> dict[str, str]:
    """Headers of a delivery signed `minutes` from now (negative: in the past)."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    return {
        "content-type": "application/json",
        **Signer(secret).headers(str(uuid.uuid4()), body, now=moment),
    }


class TestCasesNotOurs:
    @pytest.mark.parametrize(
        "ref",
        [
            "TEL/2026/11/0042",  # a case a clerk opened from a phone call
            "5f0c1c9e-2d7a-4b7e-9a53-0f3b7c1d2e4a",  # another system's reference
            "",
        ],
    )
    async def test_a_case_filed_elsewhere_is_acknowledged_and_left_alone(
        self, adapter, adapter_session, ref
    ):
        response = await hook(
            adapter, case_id="CRM-009001", external_ref=ref, status="DONE", version=2
        )
        assert response.status_code == 202
        assert await sent_events(adapter_session) == []
        handled = await adapter_session.scalar(
            select(InboxMessage.handled_at).where(
                InboxMessage.source == "crm:rest_json"
            )
        )
        assert handled is not None  # nothing waits for an operator, and it is purged

    async def test_another_crms_case_of_the_same_number_is_not_touched(
        self, adapter, adapter_settings, adapter_session
    ):
        # Ours at the Open311 CRM, which calls it CRM-000777 too.
        await route_unit_to(adapter, "zdium", "open311")
        body, headers = submitted_event("pothole", uuid.uuid4())
        await adapter.post("/internal/events", content=body, headers=headers)
        engine = make_engine(adapter_settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                await session.execute(
                    update(Case).values(crm_case_id="CRM-000777", state="created")
                )
                await session.commit()
        finally:
            await engine.dispose()
        response = await hook(
            adapter,
            case_id="CRM-000777",
            external_ref="TEL/2026/11/0042",
            status="DONE",
            version=2,
        )
        assert response.status_code == 202
        assert await sent_events(adapter_session) == []
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.status, case.crm_status) == ("received", None)


class TestACaseIdNamingAnotherReport:
    """A CRM that hands out its numbers again (restarted, restored from a backup) must never
    move a report with another report's changes."""

    async def two_cases(self, adapter) -> tuple[str, str]:
        first, second = uuid.uuid4(), uuid.uuid4()
        for report_id in (first, second):
            body, headers = submitted_event("pothole", report_id)
            await adapter.post("/internal/events", content=body, headers=headers)
        # The CRM's case CRM-000001 is the first report's.
        await hook(
            adapter,
            case_id="CRM-000001",
            external_ref=str(first),
            status="ASSIGNED",
            version=1,
        )
        return str(first), str(second)

    async def test_a_change_naming_another_report_is_kept_for_an_operator(
        self, adapter, adapter_session
    ):
        first, second = await self.two_cases(adapter)
        response = await hook(
            adapter,
            case_id="CRM-000001",
            external_ref=second,
            status="DONE",
            version=7,
        )
        assert response.status_code == 202  # taken: the CRM has nothing to retry
        events = await sent_events(adapter_session)
        assert [(str(e.report_id), e.status) for e in events] == [
            (first, "in_progress")
        ]
        statuses = dict(
            (await adapter_session.execute(select(Case.report_id, Case.status))).all()
        )
        assert {str(k): v for k, v in statuses.items()} == {
            first: "in_progress",
            second: "received",
        }
        kept = await adapter_session.scalar(
            select(InboxMessage).where(
                InboxMessage.source == "crm:rest_json",
                InboxMessage.payload.contains(second),
            )
        )
        assert kept is not None
        assert kept.handled_at is None
        assert kept.last_error is not None
        assert "CRM-000001" in kept.last_error

    async def test_a_report_known_by_one_case_id_is_not_moved_by_another(
        self, adapter, adapter_session
    ):
        first, _ = await self.two_cases(adapter)
        response = await hook(
            adapter,
            case_id="CRM-000999",
            external_ref=first,
            status="DONE",
            version=9,
        )
        assert response.status_code == 202
        case = await adapter_session.scalar(
            select(Case).where(Case.report_id == uuid.UUID(first))
        )
        assert case is not None
        assert (case.crm_case_id, case.status) == ("CRM-000001", "in_progress")

    async def test_a_change_naming_its_own_report_still_applies(
        self, adapter, adapter_session
    ):
        first, _ = await self.two_cases(adapter)
        await hook(
            adapter, case_id="CRM-000001", external_ref=first, status="DONE", version=2
        )
        case = await adapter_session.scalar(
            select(Case).where(Case.report_id == uuid.UUID(first))
        )
        assert case is not None
        assert case.status == "resolved"


ON_POSTGRESQL = [b for b in BACKENDS if b == "postgresql"]


@pytest.mark.parametrize("backend", ON_POSTGRESQL, indirect=True)
async def test_a_webhook_waiting_while_the_case_is_recorded_applies_to_it(
    adapter, adapter_settings, adapter_session
):
    """The CRM's webhook can arrive while the pusher records the case it just created:
    it waits for the case's lock and must then see the case with the id it was given."""
    report_id = uuid.uuid4()
    body, headers = submitted_event("pothole", report_id)
    await adapter.post("/internal/events", content=body, headers=headers)
    engine = make_engine(adapter_settings.database_url)
    try:
        async with make_sessionmaker(engine)() as recording:
            case = await recording.scalar(
                select(Case).where(Case.report_id == report_id).with_for_update()
            )
            assert case is not None
            case.crm_case_id = "CRM-000321"
            await recording.flush()
            webhook = asyncio.create_task(
                hook(
                    adapter,
                    case_id="CRM-000321",
                    external_ref=str(report_id),
                    status="IN_PROGRESS",
                    version=2,
                )
            )

            async def waiting_for_the_lock() -> bool:
                waiting = await recording.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND wait_event_type = 'Lock'"
                    )
                )
                return bool(waiting)

            await eventually(waiting_for_the_lock, what="the webhook waiting")
            await recording.commit()
        assert (await webhook).status_code == 202
    finally:
        await engine.dispose()
    case = await adapter_session.scalar(select(Case).where(Case.report_id == report_id))
    assert case is not None
    assert (case.crm_case_id, case.status) == ("CRM-000321", "in_progress")
    message = await adapter_session.scalar(
        select(InboxMessage).where(InboxMessage.source == "crm:rest_json")
    )
    assert message is not None
    assert (message.handled_at is not None, message.last_error) == (True, None)


class TestSignatureWindow:
    @pytest.mark.parametrize("minutes", [-4, 4])
    async def test_four_minutes_off_either_way_is_accepted(
        self, adapter, adapter_session, case_id, minutes
    ):
        crm_id, ref = case_id
        body, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="DONE", version=2
        )
        response = await adapter.post(
            "/webhooks/crm", content=body, headers=signed_at(body, minutes=minutes)
        )
        assert response.status_code == 202
        assert [e.status for e in await sent_events(adapter_session)] == ["resolved"]

    @pytest.mark.parametrize("minutes", [-6, 6])
    async def test_six_minutes_off_either_way_is_refused_and_not_stored(
        self, adapter, adapter_session, case_id, minutes
    ):
        crm_id, ref = case_id
        body, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="DONE", version=2
        )
        response = await adapter.post(
            "/webhooks/crm", content=body, headers=signed_at(body, minutes=minutes)
        )
        assert response.status_code == 401
        assert response.json()["type"] == "urn:mam:problem:bad-signature"
        assert await crm_messages(adapter_session) == 0
        assert await sent_events(adapter_session) == []


class TestSecretRotation:
    async def test_every_configured_secret_is_accepted_and_no_other(
        self, adapter_settings, adapter_session
    ):
        settings = adapter_settings.model_copy(
            update={
                "crm_webhook_secret": SecretStr(secret("current")),
                "crm_webhook_secret_previous": SecretStr(secret("previous")),
                "crm_webhook_secrets": [SecretStr(secret("a")), SecretStr(secret("b"))],
            }
        )
        async for adapter in serve(create_app(settings)):
            report_id = uuid.uuid4()
            body, headers = submitted_event("pothole", report_id)
            await adapter.post("/internal/events", content=body, headers=headers)
            for version, label in enumerate(["current", "previous", "a", "b"], 2):
                body, _ = crm_webhook(
                    case_id="CRM-000001",
                    external_ref=str(report_id),
                    status="ASSIGNED" if version % 2 else "IN_PROGRESS",
                    version=version,
                )
                headers = signed_at(body, minutes=0, secret=secret(label))
                response = await adapter.post(
                    "/webhooks/crm", content=body, headers=headers
                )
                assert response.status_code == 202, label
            # The development secret is not one of them any more.
            body, _ = crm_webhook(
                case_id="CRM-000001",
                external_ref=str(report_id),
                status="DONE",
                version=9,
            )
            response = await adapter.post(
                "/webhooks/crm", content=body, headers=signed_at(body, minutes=0)
            )
            assert response.status_code == 401
        assert await crm_messages(adapter_session) == 4

    def test_the_list_is_read_from_the_environment(self, monkeypatch):
        monkeypatch.setenv(
            "ADAPTER_CRM_WEBHOOK_SECRETS", f"{secret('a')}, {secret('b')}"
        )
        monkeypatch.setenv("ADAPTER_CRM_WEBHOOK_SECRET_PREVIOUS", secret("previous"))
        assert Settings().accepted_crm_webhook_secrets() == [
            DEV_SECRETS["crm_webhooks"],
            secret("previous"),
            secret("a"),
            secret("b"),
        ]
        monkeypatch.setenv("ADAPTER_CRM_WEBHOOK_SECRETS", f'["{secret("c")}"]')
        assert Settings().accepted_crm_webhook_secrets()[-1] == secret("c")


class TestDeduplication:
    async def test_a_delivery_id_seen_before_changes_nothing_whatever_the_body(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        first, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="DONE", version=2
        )
        again, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="IN_PROGRESS", version=3
        )
        for body in (first, again):
            headers = Signer(DEV_SECRETS["crm_webhooks"]).headers("delivery-42", body)
            response = await adapter.post(
                "/webhooks/crm", content=body, headers=headers
            )
            assert response.status_code == 202
        assert [e.status for e in await sent_events(adapter_session)] == ["resolved"]
        assert await crm_messages(adapter_session) == 1
        message = await adapter_session.scalar(
            select(InboxMessage).where(InboxMessage.source == "crm:rest_json")
        )
        assert message is not None
        assert (message.delivery_id, message.external_id) == (
            "delivery-42",
            json.loads(first)["update_id"],
        )

    async def test_an_update_id_seen_before_changes_nothing_under_a_new_delivery_id(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        body, _ = crm_webhook(
            case_id=crm_id, external_ref=ref, status="DONE", version=2
        )
        for delivery in ("delivery-1", "delivery-2"):
            headers = Signer(DEV_SECRETS["crm_webhooks"]).headers(delivery, body)
            response = await adapter.post(
                "/webhooks/crm", content=body, headers=headers
            )
            assert response.status_code == 202
        assert len(await sent_events(adapter_session)) == 1
        assert await crm_messages(adapter_session) == 1

    async def test_an_older_version_after_a_newer_one_changes_no_status(
        self, adapter, adapter_session, case_id
    ):
        crm_id, ref = case_id
        await hook(adapter, case_id=crm_id, external_ref=ref, status="DONE", version=3)
        late = await hook(
            adapter, case_id=crm_id, external_ref=ref, status="ASSIGNED", version=2
        )
        assert late.status_code == 202
        assert [
            (e.status, e.superseded) for e in await sent_events(adapter_session)
        ] == [("resolved", False), ("in_progress", True)]
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.status, case.crm_status, case.crm_version) == (
            "resolved",
            "DONE",
            3,
        )


class TestRetention:
    def test_the_retention_is_at_least_seven_days(self):
        assert Settings().inbox_retention_days == 30
        assert Settings(inbox_retention_days=7).inbox_retention_days == 7
        with pytest.raises(ValidationError):
            Settings(inbox_retention_days=6)

    async def test_the_worker_purges_handled_rows_past_retention_and_keeps_the_rest(
        self, adapter, adapter_settings, case_id
    ):
        crm_id, ref = case_id
        old = await hook(
            adapter, case_id=crm_id, external_ref=ref, status="DONE", version=2
        )
        assert old.status_code == 202
        recent_body, recent_headers = crm_webhook(
            case_id=crm_id, external_ref=ref, status="REOPENED", version=3
        )
        await adapter.post("/webhooks/crm", content=recent_body, headers=recent_headers)
        # A reopen of a report the adapter has no case of: kept unhandled for an operator.
        orphan = reopen_event(uuid.uuid4())
        assert (
            await adapter.post("/internal/events", content=orphan[0], headers=orphan[1])
        ).status_code == 202

        engine = make_engine(adapter_settings.database_url)
        sessions = make_sessionmaker(engine)
        recent_id = json.loads(recent_body)["update_id"]
        async with sessions() as session:
            # Everything but the recent change was received 8 days ago; that one 6 days ago.
            await session.execute(
                update(InboxMessage).values(
                    received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
                )
            )
            await session.execute(
                update(InboxMessage)
                .where(InboxMessage.external_id == recent_id)
                .values(received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=6))
            )
            await session.commit()

        async def remaining() -> list[tuple[str, bool]]:
            async with sessions() as session:
                rows = await session.execute(
                    select(InboxMessage.external_id, InboxMessage.handled_at).order_by(
                        InboxMessage.id
                    )
                )
                return [
                    (external_id, handled is not None) for external_id, handled in rows
                ]

        assert len(await remaining()) == 4  # the hand-over, two changes, the orphan
        worker_settings = adapter_settings.model_copy(
            update={
                "run_worker": True,
                "inbox_retention_days": 7,
                # Nobody answers there: the other loops only retry.
                "crm_url": "http://127.0.0.1:9",
                "intake_url": "http://127.0.0.1:9",
            }
        )
        try:
            async for worker in serve(create_app(worker_settings)):

                async def purged() -> list[tuple[str, bool]] | None:
                    rows = await remaining()
                    return rows if len(rows) == 2 else None

                kept = await eventually(purged, what="the purge")
                # The recent change is still recognised when the CRM sends it again.
                again = Signer(DEV_SECRETS["crm_webhooks"]).headers(
                    "again", recent_body
                )
                response = await worker.post(
                    "/webhooks/crm", content=recent_body, headers=again
                )
                assert response.status_code == 202
        finally:
            await engine.dispose()
        assert [handled for _, handled in kept] == [True, False]
        assert kept[0][0] == recent_id
        assert len(await remaining_after(adapter_settings)) == 2


async def remaining_after(settings) -> list[int]:
    engine = make_engine(settings.database_url, read_only=True)
    try:
        async with make_sessionmaker(engine)() as session:
            return list((await session.scalars(select(InboxMessage.id))).all())
    finally:
        await engine.dispose()
