import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select

from intake_service.db import InboxMessage
from intake_service.notifications.models import Notification
from intake_service.reports.models import Report
from shared.contracts import ReportStatus
from shared.db import make_engine, make_sessionmaker
from shared.settings import DEV_SECRETS
from shared.signing import Signer
from tests.helpers import POTHOLE, register_and_sign_in
from tests.signed import EVERY_EVENT_TYPE, status_event


async def file(intake, headers=None) -> str:
    response = await intake.post("/v1/reports", json=POTHOLE, headers=headers or {})
    assert response.status_code == 201
    return str(response.json()["id"])


async def deliver(intake, body_and_headers):
    body, headers = body_and_headers
    return await intake.post("/internal/events", content=body, headers=headers)


class TestReceiveStatusEvent:
    async def test_status_history_unit_and_notification_in_the_residents_language(
        self, intake
    ):
        headers = await register_and_sign_in(intake, "karl@example.org", lang="de")
        report_id = await file(intake, headers)
        assert (
            await deliver(intake, status_event(report_id, ReportStatus.SUBMITTED, 1))
        ).status_code == 202
        response = await deliver(
            intake,
            status_event(report_id, ReportStatus.IN_PROGRESS, 2, note="Ekipa w drodze"),
        )
        assert response.status_code == 202

        report = (await intake.get(f"/v1/reports/{report_id}?lang=en")).json()
        assert report["status"] == "in_progress"
        assert report["unit"] == {
            "code": "zdium",
            "name": "Roads and City Maintenance Board",
        }
        assert [h["status"] for h in report["status_history"]] == [
            "received",
            "submitted",
            "in_progress",
        ]
        assert report["status_history"][-1]["note"] == "Ekipa w drodze"

        items = (await intake.get("/v1/me/notifications", headers=headers)).json()[
            "items"
        ]
        # `submitted` only means the CRM has it; the resident hears from the unit's work on.
        assert [n["status"] for n in items] == ["in_progress"]
        assert items[0]["report_id"] == report_id
        assert "in Bearbeitung" in items[0]["text"]
        assert "Schlagloch" in items[0]["text"]
        assert "Ekipa w drodze" in items[0]["text"]

    async def test_a_redelivered_event_has_no_second_effect(
        self, intake, intake_session
    ):
        headers = await register_and_sign_in(intake, "piotr@example.org")
        report_id = await file(intake, headers)
        event = status_event(report_id, ReportStatus.IN_PROGRESS, 1)
        assert (await deliver(intake, event)).status_code == 202
        assert (await deliver(intake, event)).status_code == 202
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert len(report["status_history"]) == 2
        items = (await intake.get("/v1/me/notifications", headers=headers)).json()[
            "items"
        ]
        assert len(items) == 1
        assert (
            await intake_session.scalar(select(func.count()).select_from(InboxMessage))
            == 1
        )

    async def test_an_older_change_never_overwrites_a_newer_one(self, intake):
        report_id = await file(intake)
        await deliver(intake, status_event(report_id, ReportStatus.RESOLVED, 3))
        await deliver(intake, status_event(report_id, ReportStatus.IN_PROGRESS, 2))
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert report["status"] == "resolved"
        assert [h["status"] for h in report["status_history"]] == [
            "received",
            "resolved",
        ]

    async def test_a_change_the_crm_made_earlier_joins_the_history_in_its_place(
        self, intake
    ):
        headers = await register_and_sign_in(intake, "ola@example.org")
        report_id = await file(intake, headers)
        now = dt.datetime.now(dt.UTC)
        await deliver(
            intake,
            status_event(
                report_id,
                ReportStatus.RESOLVED,
                1,
                changed_at=now + dt.timedelta(hours=2),
            ),
        )
        # The crew's note, made an hour before the case was closed, arrives after it.
        response = await deliver(
            intake,
            status_event(
                report_id,
                ReportStatus.IN_PROGRESS,
                2,
                note="Ekipa w drodze",
                changed_at=now + dt.timedelta(hours=1),
                superseded=True,
            ),
        )
        assert response.status_code == 202

        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert report["status"] == "resolved"
        assert [(h["status"], h["note"]) for h in report["status_history"]] == [
            ("received", None),
            ("in_progress", "Ekipa w drodze"),
            ("resolved", None),
        ]
        items = (await intake.get("/v1/me/notifications", headers=headers)).json()[
            "items"
        ]
        # Told of the closing, not of a step that was over before it arrived.
        assert [n["status"] for n in items] == ["resolved", "resolved"]

    async def test_anonymous_reports_notify_nobody(self, intake, intake_session):
        report_id = await file(intake)
        await deliver(intake, status_event(report_id, ReportStatus.RESOLVED, 1))
        assert (await intake.get(f"/v1/reports/{report_id}")).json()[
            "status"
        ] == "resolved"
        assert (
            await intake_session.scalar(select(func.count()).select_from(Notification))
            == 0
        )

    async def test_an_event_for_an_unknown_report_is_kept_for_an_operator(
        self, intake, intake_session
    ):
        response = await deliver(
            intake, status_event(uuid.uuid4(), ReportStatus.RESOLVED, 1)
        )
        assert response.status_code == 202
        kept = await intake_session.scalar(select(InboxMessage))
        assert kept is not None
        assert kept.handled_at is None
        assert kept.last_error == "unknown report"


class TestSignature:
    async def test_missing_headers_are_a_400(self, intake, intake_session):
        body, _ = status_event(uuid.uuid4(), ReportStatus.RESOLVED, 1)
        response = await intake.post("/internal/events", content=body)
        assert response.status_code == 400
        assert response.json()["type"] == "urn:mam:problem:missing-signature"
        assert (
            await intake_session.scalar(select(func.count()).select_from(InboxMessage))
            == 0
        )

    async def test_a_wrong_signature_is_a_401_and_stores_nothing(
        self, intake, intake_session
    ):
        report_id = await file(intake)
        body, headers = status_event(report_id, ReportStatus.RESOLVED, 1)
        tampered = body.replace(b"resolved", b"rejected")
        response = await intake.post(
            "/internal/events", content=tampered, headers=headers
        )
        assert response.status_code == 401
        assert (await intake.get(f"/v1/reports/{report_id}")).json()[
            "status"
        ] == "received"
        assert (
            await intake_session.scalar(select(func.count()).select_from(InboxMessage))
            == 0
        )

    async def test_a_signed_body_that_is_no_event_is_a_422(self, intake):
        from shared.settings import DEV_SECRETS
        from shared.signing import Signer

        body = b'{"hello": "world"}'
        headers = Signer(DEV_SECRETS["adapter_to_intake"]).headers("msg_x", body)
        response = await intake.post("/internal/events", content=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:invalid-event"

    async def test_the_document_describes_the_envelope_it_takes(self, intake):
        """The body is read as signed bytes, not by FastAPI: its schema is given apart."""
        spec = (await intake.get("/openapi.json")).json()
        body = spec["paths"]["/internal/events"]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        assert schema["required"] == ["occurred_at", "source", "event"]
        events = schema["properties"]["event"]["oneOf"]
        assert {e["properties"]["type"]["const"] for e in events} == EVERY_EVENT_TYPE
        # Each event names its type, as the schema says: one without it is refused.
        assert all("type" in e["required"] for e in events)
        raw, _ = signed_with_changes(uuid.uuid4())
        data = json.loads(raw)
        del data["event"]["type"]
        untyped = json.dumps(data).encode()
        headers = Signer(DEV_SECRETS["adapter_to_intake"]).headers(data["id"], untyped)
        response = await intake.post(
            "/internal/events", content=untyped, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:invalid-event"


def signed_with_changes(report_id, **changes):
    """A properly signed event whose fields no valid adapter would send."""
    body, _ = status_event(report_id, ReportStatus.RESOLVED, 1)
    data = json.loads(body)
    data["event"].update(changes)
    raw = json.dumps(data).encode()
    headers = Signer(DEV_SECRETS["adapter_to_intake"]).headers(data["id"], raw)
    return raw, {"content-type": "application/json", **headers}


class TestEventLimits:
    @pytest.mark.parametrize(
        "changes",
        [
            {"crm_case_id": "C" * 101},
            {"note": "zrobione\x00"},
            {"sequence": 2**63},
            {"unit": ""},
            # Past either end of the calendar once in UTC; a number is no date-time.
            {"changed_at": "0001-01-01T00:00:00+05:00"},
            {"changed_at": "9999-12-31T23:59:59-05:00"},
            {"changed_at": 0},
        ],
    )
    async def test_out_of_range_fields_are_a_422_on_every_database(
        self, intake, intake_session, changes
    ):
        report_id = await file(intake)
        response = await deliver(intake, signed_with_changes(report_id, **changes))
        assert response.status_code == 422
        assert (
            await intake_session.scalar(select(func.count()).select_from(InboxMessage))
            == 0
        )

    async def test_the_largest_sequence_the_document_allows_is_taken(self, intake):
        spec = (await intake.get("/openapi.json")).json()
        body = spec["paths"]["/internal/events"]["post"]["requestBody"]
        envelope = body["content"]["application/json"]["schema"]
        [changed] = [
            e
            for e in envelope["properties"]["event"]["oneOf"]
            if e["properties"]["type"]["const"] == "report.status_changed.v1"
        ]
        sequence = changed["properties"]["sequence"]
        if "exclusiveMaximum" in sequence:
            largest = int(sequence["exclusiveMaximum"]) - 1
        else:
            largest = int(sequence["maximum"])
        report_id = await file(intake)
        taken = await deliver(
            intake, status_event(report_id, ReportStatus.RESOLVED, largest)
        )
        assert taken.status_code == 202, taken.text
        past = await deliver(
            intake, signed_with_changes(report_id, sequence=largest + 1)
        )
        assert past.status_code == 422

    async def test_a_64_bit_sequence_is_stored(self, intake):
        report_id = await file(intake)
        response = await deliver(
            intake, status_event(report_id, ReportStatus.RESOLVED, 2**40)
        )
        assert response.status_code == 202
        assert (await intake.get(f"/v1/reports/{report_id}")).json()[
            "status"
        ] == "resolved"


class TestOverdue:
    async def test_open_past_its_target_is_overdue_and_closed_is_not(
        self, intake, intake_settings
    ):
        report_id = await file(intake)
        assert (await intake.get(f"/v1/reports/{report_id}")).json()["overdue"] is False
        engine = make_engine(intake_settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                report = await session.get(Report, uuid.UUID(report_id))
                assert report is not None
                report.expected_resolution_at = report.created_at - dt.timedelta(
                    seconds=1
                )
                await session.commit()
        finally:
            await engine.dispose()
        assert (await intake.get(f"/v1/reports/{report_id}")).json()["overdue"] is True
        await deliver(intake, status_event(report_id, ReportStatus.RESOLVED, 1))
        assert (await intake.get(f"/v1/reports/{report_id}")).json()["overdue"] is False
