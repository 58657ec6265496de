"""The status mapping as data operators edit, and the changes held for codes it lacks."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from crm_adapter.cases.models import Case
from crm_adapter.crm.mapping import status_map
from crm_adapter.crm.models import StatusMapping
from crm_adapter.db import OutboxEvent
from crm_adapter.migrations import migrate
from shared.contracts import Envelope, ReportStatusChangedV1
from shared.db import make_engine, make_sessionmaker, utcnow
from shared.settings import DEV_SECRETS
from shared.signing import Signer
from tests.helpers import MANAGE, READ
from tests.signed import crm_webhook, submitted_event

MAPPINGS = "/admin/status-mappings"
UNMAPPED = "/admin/unmapped"


async def open_case(adapter, crm_id: str) -> str:
    """A routed case the CRM knows as `crm_id`; its report id."""
    report_id = uuid.uuid4()
    body, headers = submitted_event("pothole", report_id)
    assert (
        await adapter.post("/internal/events", content=body, headers=headers)
    ).status_code == 202
    return str(report_id)


async def hook(adapter, crm_id: str, ref: str, status: str, version: int, **kw):
    body, headers = crm_webhook(
        case_id=crm_id, external_ref=ref, status=status, version=version, **kw
    )
    response = await adapter.post("/webhooks/crm", content=body, headers=headers)
    assert response.status_code == 202, response.text
    return response


async def sent(adapter_settings) -> list[ReportStatusChangedV1]:
    """The status events queued for intake, oldest first."""
    engine = make_engine(adapter_settings.database_url, read_only=True)
    try:
        async with make_sessionmaker(engine)() as session:
            payloads = (
                await session.scalars(
                    select(OutboxEvent.payload).order_by(OutboxEvent.seq)
                )
            ).all()
    finally:
        await engine.dispose()
    events = [Envelope.model_validate_json(p).event for p in payloads]
    assert all(isinstance(e, ReportStatusChangedV1) for e in events)
    return events  # type: ignore[return-value]


async def case_of(adapter_settings, ref: str) -> Case:
    engine = make_engine(adapter_settings.database_url, read_only=True)
    try:
        async with make_sessionmaker(engine)() as session:
            case = await session.scalar(
                select(Case).where(Case.report_id == uuid.UUID(ref))
            )
    finally:
        await engine.dispose()
    assert case is not None
    return case


async def audit_log(adapter) -> list[dict]:
    response = await adapter.get("/admin/actions", headers=MANAGE)
    assert response.status_code == 200
    items: list[dict] = response.json()["items"]
    return items


class TestMappingTable:
    async def test_the_connectors_defaults_are_listed(self, adapter):
        response = await adapter.get(MAPPINGS, headers=READ)
        assert response.status_code == 200
        listed = {(m["connector"], m["crm_code"]): m["status"] for m in response.json()}
        assert listed == {
            (connector, code): status.value
            for connector in ("rest_json", "open311")
            for code, status in status_map(connector).items()
        }
        assert {m["changed_by"] for m in response.json()} == {None}
        only = await adapter.get(MAPPINGS, params={"connector": "other"}, headers=READ)
        assert only.json() == []

    async def test_reading_needs_a_key_and_changing_the_manage_role(self, adapter):
        assert (await adapter.get(MAPPINGS)).status_code == 401
        assert (await adapter.get(UNMAPPED)).status_code == 401
        put = await adapter.put(
            f"{MAPPINGS}/rest_json/ON_HOLD",
            json={"status": "in_progress"},
            headers=READ,
        )
        assert put.status_code == 403
        assert put.json()["type"] == "urn:mam:problem:operator-role-missing"
        gone = await adapter.delete(f"{MAPPINGS}/rest_json/DONE", headers=READ)
        assert gone.status_code == 403
        reapply = await adapter.post(f"{UNMAPPED}/reapply", headers=READ)
        assert reapply.status_code == 403
        listed = await adapter.get(
            MAPPINGS, params={"connector": "rest_json"}, headers=READ
        )
        assert {m["crm_code"] for m in listed.json()} == set(status_map("rest_json"))

    async def test_only_a_canonical_status_and_a_known_connector_are_taken(
        self, adapter
    ):
        wrong = await adapter.put(
            f"{MAPPINGS}/rest_json/ON_HOLD", json={"status": "on_hold"}, headers=MANAGE
        )
        assert wrong.status_code == 422
        assert wrong.json()["type"] == "urn:mam:problem:validation-failed"
        nobody = await adapter.put(
            f"{MAPPINGS}/sap_crm/ON_HOLD",
            json={"status": "in_progress"},
            headers=MANAGE | {"Accept-Language": "de"},
        )
        assert nobody.status_code == 404
        assert nobody.json()["type"] == "urn:mam:problem:unknown-connector"
        assert "sap_crm" in nobody.json()["detail"]
        spaced = await adapter.put(
            f"{MAPPINGS}/rest_json/%20ON_HOLD",
            json={"status": "resolved"},
            headers=MANAGE,
        )
        assert spaced.status_code == 422
        listed = await adapter.get(MAPPINGS, headers=READ)
        assert "ON_HOLD" not in {m["crm_code"] for m in listed.json()}
        assert await audit_log(adapter) == []

    async def test_a_changed_mapping_applies_to_the_next_change_and_is_audited(
        self, adapter, adapter_settings
    ):
        ref = await open_case(adapter, "CRM-000001")
        changed = await adapter.put(
            f"{MAPPINGS}/rest_json/SCHEDULED",
            json={"status": "submitted"},
            headers=MANAGE,
        )
        assert changed.status_code == 200
        body = changed.json()
        assert (body["status"], body["changed_by"], body["reapplied"]) == (
            "submitted",
            "city-manager",
            0,
        )
        await hook(adapter, "CRM-000001", ref, "SCHEDULED", 2)
        assert [(e.status, e.crm_status) for e in await sent(adapter_settings)] == [
            ("submitted", "SCHEDULED")
        ]
        [entry] = await audit_log(adapter)
        assert (entry["operator_name"], entry["action"], entry["target_id"]) == (
            "city-manager",
            "status_mapping.set",
            "rest_json/SCHEDULED",
        )
        assert entry["details"]["previous"] == "in_progress"
        assert entry["details"]["status"] == "submitted"

    async def test_a_removed_mapping_holds_its_code_again_and_is_audited(
        self, adapter, adapter_settings
    ):
        ref = await open_case(adapter, "CRM-000001")
        gone = await adapter.delete(f"{MAPPINGS}/rest_json/DUPLICATE", headers=MANAGE)
        assert gone.status_code == 204
        again = await adapter.delete(f"{MAPPINGS}/rest_json/DUPLICATE", headers=MANAGE)
        assert again.status_code == 404
        assert again.json()["type"] == "urn:mam:problem:status-mapping-not-found"
        await hook(adapter, "CRM-000001", ref, "DUPLICATE", 2)
        assert await sent(adapter_settings) == []
        held = (await adapter.get(UNMAPPED, headers=READ)).json()
        assert [(c["crm_code"], c["held"]) for c in held["codes"]] == [("DUPLICATE", 1)]
        [entry] = await audit_log(adapter)
        assert (entry["action"], entry["target_id"], entry["details"]) == (
            "status_mapping.delete",
            "rest_json/DUPLICATE",
            {"previous": "rejected"},
        )

    async def test_seeding_adds_missing_defaults_and_keeps_operators_changes(
        self, adapter, adapter_settings
    ):
        await adapter.put(
            f"{MAPPINGS}/rest_json/NEW", json={"status": "in_progress"}, headers=MANAGE
        )
        await adapter.delete(f"{MAPPINGS}/rest_json/DUPLICATE", headers=MANAGE)
        engine = make_engine(adapter_settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                # A default missing from the table (as after a new connector file).
                missing = await session.get(StatusMapping, ("rest_json", "DONE"))
                assert missing is not None
                await session.delete(missing)
                await session.commit()
        finally:
            await engine.dispose()
        await migrate(adapter_settings)  # what `python -m crm_adapter migrate` does
        listed = {
            m["crm_code"]: (m["status"], m["changed_by"])
            for m in (
                await adapter.get(
                    MAPPINGS, params={"connector": "rest_json"}, headers=READ
                )
            ).json()
        }
        assert listed["NEW"] == ("in_progress", "city-manager")
        assert "DUPLICATE" not in listed
        assert listed["DONE"] == ("resolved", None)


class TestHeldChanges:
    async def test_unknown_codes_are_held_listed_and_applied_once_mapped(
        self, adapter, adapter_settings
    ):
        first = await open_case(adapter, "CRM-000001")
        second = await open_case(adapter, "CRM-000002")
        await hook(adapter, "CRM-000001", first, "ON_HOLD", 2, note="Czeka na część")
        await hook(adapter, "CRM-000002", second, "WAITING_PERMIT", 2)
        await hook(adapter, "CRM-000002", second, "ON_HOLD", 3)
        assert await sent(adapter_settings) == []
        case = await case_of(adapter_settings, first)
        assert (case.status, case.crm_status) == ("received", "ON_HOLD")

        listed = await adapter.get(UNMAPPED, headers=READ)
        assert listed.status_code == 200
        overview = listed.json()
        # The code waiting longest comes first.
        assert [
            (c["connector"], c["crm_code"], c["held"]) for c in overview["codes"]
        ] == [
            ("rest_json", "ON_HOLD", 2),
            ("rest_json", "WAITING_PERMIT", 1),
        ]
        assert [
            (i["report_id"], i["crm_code"], i["version"]) for i in overview["items"]
        ] == [
            (first, "ON_HOLD", 2),
            (second, "WAITING_PERMIT", 2),
            (second, "ON_HOLD", 3),
        ]
        assert overview["items"][0]["note"] == "Czeka na część"
        on_hold = overview["codes"][0]
        assert on_hold["first_held_at"] == overview["items"][0]["held_at"]
        assert on_hold["last_held_at"] == overview["items"][2]["held_at"]
        # A short list still counts every held change of every code.
        cut = (await adapter.get(UNMAPPED, params={"limit": 1}, headers=READ)).json()
        assert cut["codes"] == overview["codes"]
        assert cut["items"] == overview["items"][:1]
        only = await adapter.get(
            UNMAPPED, params={"code": "WAITING_PERMIT"}, headers=READ
        )
        assert [i["version"] for i in only.json()["items"]] == [2]

        mapped = await adapter.put(
            f"{MAPPINGS}/rest_json/ON_HOLD",
            json={"status": "in_progress"},
            headers=MANAGE,
        )
        assert mapped.status_code == 200
        assert mapped.json()["reapplied"] == 2
        events = await sent(adapter_settings)
        assert [(str(e.report_id), e.status, e.crm_status, e.note) for e in events] == [
            (first, "in_progress", "ON_HOLD", "Czeka na część"),
            (second, "in_progress", "ON_HOLD", None),
        ]
        case = await case_of(adapter_settings, second)
        assert (case.status, case.crm_status, case.crm_version) == (
            "in_progress",
            "ON_HOLD",
            3,
        )
        left = (await adapter.get(UNMAPPED, headers=READ)).json()
        assert [c["crm_code"] for c in left["codes"]] == ["WAITING_PERMIT"]
        assert [i["crm_code"] for i in left["items"]] == ["WAITING_PERMIT"]

        # WAITING_PERMIT (version 2) is older than what the second case has now: it goes
        # to the report's history only.
        await adapter.put(
            f"{MAPPINGS}/rest_json/WAITING_PERMIT",
            json={"status": "in_progress"},
            headers=MANAGE,
        )
        events = await sent(adapter_settings)
        assert [(str(e.report_id), e.superseded) for e in events[2:]] == [
            (second, True)
        ]
        case = await case_of(adapter_settings, second)
        assert (case.crm_status, case.crm_version) == ("ON_HOLD", 3)
        assert (await adapter.get(UNMAPPED, headers=READ)).json() == {
            "codes": [],
            "items": [],
        }
        entries = await audit_log(adapter)
        assert [(e["action"], e["target_id"]) for e in entries] == [
            ("status_mapping.set", "rest_json/WAITING_PERMIT"),
            ("status_mapping.set", "rest_json/ON_HOLD"),
        ]
        assert len(entries[1]["details"]["reapplied"]) == 2

    async def test_a_held_change_never_overwrites_a_newer_one(
        self, adapter, adapter_settings
    ):
        ref = await open_case(adapter, "CRM-000001")
        await hook(adapter, "CRM-000001", ref, "ON_HOLD", 2)
        await hook(adapter, "CRM-000001", ref, "DONE", 3)
        mapped = await adapter.put(
            f"{MAPPINGS}/rest_json/ON_HOLD",
            json={"status": "in_progress"},
            headers=MANAGE,
        )
        assert mapped.json()["reapplied"] == 1
        assert [(e.status, e.superseded) for e in await sent(adapter_settings)] == [
            ("resolved", False),
            ("in_progress", True),
        ]
        case = await case_of(adapter_settings, ref)
        assert (case.status, case.crm_status, case.crm_version) == (
            "resolved",
            "DONE",
            3,
        )

    async def test_reapply_applies_what_got_mapped_otherwise_and_keeps_the_rest(
        self, adapter, adapter_settings
    ):
        ref = await open_case(adapter, "CRM-000001")
        await hook(adapter, "CRM-000001", ref, "ON_HOLD", 2)
        await hook(adapter, "CRM-000001", ref, "PARKED", 3)
        nothing = await adapter.post(f"{UNMAPPED}/reapply", headers=MANAGE)
        assert nothing.status_code == 200
        assert nothing.json() == {"reapplied": 0, "still_held": 2}
        # A mapping that arrives without an operator's PUT (a new default on `migrate`).
        engine = make_engine(adapter_settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                session.add(
                    StatusMapping(
                        connector="rest_json",
                        crm_code="ON_HOLD",
                        status="in_progress",
                        changed_by=None,
                        changed_at=utcnow(),
                    )
                )
                await session.commit()
        finally:
            await engine.dispose()
        some = await adapter.post(
            f"{UNMAPPED}/reapply", params={"code": "PARKED"}, headers=MANAGE
        )
        assert some.json() == {"reapplied": 0, "still_held": 1}
        assert await sent(adapter_settings) == []
        done = await adapter.post(
            f"{UNMAPPED}/reapply", params={"connector": "rest_json"}, headers=MANAGE
        )
        assert done.json() == {"reapplied": 1, "still_held": 1}
        assert [(e.status, e.crm_status) for e in await sent(adapter_settings)] == [
            ("in_progress", "ON_HOLD")
        ]
        again = await adapter.post(f"{UNMAPPED}/reapply", headers=MANAGE)
        assert again.json() == {"reapplied": 0, "still_held": 1}
        entries = await audit_log(adapter)
        assert [e["action"] for e in entries] == ["held_changes.reapply"] * 4
        assert [e["target_id"] for e in entries][1:3] == [
            "rest_json/*",
            "*/PARKED",
        ]

    @pytest.mark.parametrize("same", ["update id", "delivery id"])
    async def test_a_redelivered_unknown_code_is_held_once(self, adapter, same):
        ref = await open_case(adapter, "CRM-000001")
        body, headers = crm_webhook(
            case_id="CRM-000001", external_ref=ref, status="ON_HOLD", version=2
        )
        await adapter.post("/webhooks/crm", content=body, headers=headers)
        if same == "update id":  # the same body under a new delivery id
            delivery = "another-delivery"
        else:  # a new update under the delivery id seen before
            delivery = headers["webhook-id"]
            body, _ = crm_webhook(
                case_id="CRM-000001", external_ref=ref, status="ON_HOLD", version=3
            )
        signed = Signer(DEV_SECRETS["crm_webhooks"]).headers(delivery, body)
        response = await adapter.post("/webhooks/crm", content=body, headers=signed)
        assert response.status_code == 202
        overview = (await adapter.get(UNMAPPED, headers=READ)).json()
        assert [c["held"] for c in overview["codes"]] == [1]
        assert [i["version"] for i in overview["items"]] == [2]
