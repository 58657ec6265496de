import json
import uuid

import pytest
from sqlalchemy import func, select

from crm_adapter.cases.models import Case, CaseAction
from crm_adapter.db import InboxMessage, OutboxEvent
from shared.contracts import Envelope, ReportStatusChangedV1
from shared.settings import DEV_SECRETS
from shared.signing import Signer
from tests.crm_adapter.helpers import samples
from tests.signed import EVERY_EVENT_TYPE, comment_event, reopen_event, submitted_event


async def deliver(adapter, body_and_headers):
    body, headers = body_and_headers
    return await adapter.post("/internal/events", content=body, headers=headers)


class TestReceiveSubmittedReport:
    async def test_routes_the_report_and_queues_one_case(
        self, adapter, adapter_session
    ):
        report_id = uuid.uuid4()
        assert (
            await deliver(adapter, submitted_event("pothole", report_id))
        ).status_code == 202
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.report_id, case.unit_code, case.state) == (
            report_id,
            "zdium",
            "pending",
        )

    async def test_each_default_unit_is_reached(self, adapter, adapter_session):
        for category in ("overflowing_container", "fallen_tree"):
            await deliver(adapter, submitted_event(category))
        units = set((await adapter_session.scalars(select(Case.unit_code))).all())
        assert units == {"ekosystem", "czk"}

    async def test_a_redelivered_event_opens_no_second_case(
        self, adapter, adapter_session
    ):
        event = submitted_event()
        assert (await deliver(adapter, event)).status_code == 202
        assert (await deliver(adapter, event)).status_code == 202
        assert await adapter_session.scalar(select(func.count()).select_from(Case)) == 1
        assert (
            await adapter_session.scalar(select(func.count()).select_from(InboxMessage))
            == 1
        )

    async def test_a_category_without_route_is_held_not_dropped(
        self, adapter, adapter_session
    ):
        await deliver(adapter, submitted_event("noise_complaint"))
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert case.state == "unroutable"
        assert case.last_error is not None
        assert "noise_complaint" in case.last_error

    async def test_an_unsigned_event_is_refused(self, adapter, adapter_session):
        body, headers = submitted_event()
        headers["webhook-signature"] = "v1,AAAA"
        response = await adapter.post("/internal/events", content=body, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert await adapter_session.scalar(select(func.count()).select_from(Case)) == 0

    @pytest.mark.parametrize(
        "when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", 0]
    )
    async def test_a_time_past_the_calendar_or_a_number_is_a_422(
        self, adapter, adapter_session, when
    ):
        raw, _ = submitted_event()
        data = json.loads(raw)
        data["event"]["submitted_at"] = when
        odd = json.dumps(data).encode()
        headers = Signer(DEV_SECRETS["intake_to_adapter"]).headers(data["id"], odd)
        response = await adapter.post("/internal/events", content=odd, headers=headers)
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:invalid-event"
        assert await adapter_session.scalar(select(func.count()).select_from(Case)) == 0

    async def test_the_document_describes_the_envelope_it_takes(self, adapter):
        """The body is read as signed bytes, not by FastAPI: its schema is given apart."""
        spec = (await adapter.get("/openapi.json")).json()
        body = spec["paths"]["/internal/events"]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        assert schema["required"] == ["occurred_at", "source", "event"]
        events = schema["properties"]["event"]["oneOf"]
        assert {e["properties"]["type"]["const"] for e in events} == EVERY_EVENT_TYPE
        # Each event names its type, as the schema says: one without it is refused.
        assert all("type" in e["required"] for e in events)
        raw, _ = submitted_event()
        data = json.loads(raw)
        del data["event"]["type"]
        untyped = json.dumps(data).encode()
        headers = Signer(DEV_SECRETS["intake_to_adapter"]).headers(data["id"], untyped)
        response = await adapter.post(
            "/internal/events", content=untyped, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:invalid-event"


async def status_events(adapter_session) -> list[ReportStatusChangedV1]:
    payloads = (
        await adapter_session.scalars(
            select(OutboxEvent.payload).order_by(OutboxEvent.seq)
        )
    ).all()
    events = [Envelope.model_validate_json(p).event for p in payloads]
    assert all(isinstance(e, ReportStatusChangedV1) for e in events)
    return events  # type: ignore[return-value]


class TestReceiveReopen:
    async def test_recorded_once_on_the_case_and_answered_at_once(
        self, adapter, adapter_session
    ):
        report_id = uuid.uuid4()
        await deliver(adapter, submitted_event("pothole", report_id))
        reopen_id = uuid.uuid4()
        event = reopen_event(report_id, reopen_id=reopen_id, comment="Nadal jest")
        assert (await deliver(adapter, event)).status_code == 202
        assert (await deliver(adapter, event)).status_code == 202
        # The same reopen in an envelope of its own (a replay) is taken once too.
        again = reopen_event(report_id, reopen_id=reopen_id, comment="Nadal jest")
        assert (await deliver(adapter, again)).status_code == 202

        [action] = (await adapter_session.scalars(select(CaseAction))).all()
        assert (
            action.id,
            action.kind,
            action.comment,
            action.rating,
            action.state,
        ) == (
            reopen_id,
            "reopen",
            "Nadal jest",
            2,
            "pending",
        )
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (action.case_id, case.status) == (case.id, "reopened")
        [answer] = await status_events(adapter_session)
        assert (answer.status, answer.reopen_id, answer.sequence, answer.note) == (
            "reopened",
            reopen_id,
            case.status_version,
            None,
        )

    async def test_without_a_case_it_is_kept_for_an_operator(
        self, adapter, adapter_session
    ):
        report_id = uuid.uuid4()
        assert (await deliver(adapter, reopen_event(report_id))).status_code == 202
        kept = await adapter_session.scalar(select(InboxMessage))
        assert kept is not None
        assert (kept.handled_at, kept.last_error) == (
            None,
            f"no case for report {report_id}",
        )
        assert await adapter_session.scalar(select(CaseAction)) is None
        assert await status_events(adapter_session) == []
        # Counted where the city's monitoring looks.
        found = samples((await adapter.get("/metrics")).text)
        assert found[("mam_adapter_inbox_unhandled", (("source", "intake"),))] == 1

    async def test_a_comment_is_queued_and_changes_no_status(
        self, adapter, adapter_session
    ):
        report_id = uuid.uuid4()
        await deliver(adapter, submitted_event("pothole", report_id))
        event = comment_event(report_id, comment="Nadal stoi")
        await deliver(adapter, event)
        await deliver(adapter, event)
        [action] = (await adapter_session.scalars(select(CaseAction))).all()
        assert (action.kind, action.comment) == ("comment", "Nadal stoi")
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert case.status == "received"
        assert await status_events(adapter_session) == []
