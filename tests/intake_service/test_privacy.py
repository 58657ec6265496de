"""A resident's data: shared with the CRM only by consent, exported whole, erased for good."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from crm_adapter.cases.models import Case
from crm_adapter.db import Base as AdapterBase
from intake_service.accounts.models import Account
from intake_service.db import Base as IntakeBase
from intake_service.db import OutboxEvent
from intake_service.notifications.models import Notification
from intake_service.reports.models import ReportSupporter
from shared.contracts import Envelope, ReportStatus
from shared.db import make_engine, make_sessionmaker
from shared.settings import DEV_SECRETS
from tests.helpers import POTHOLE, register_and_sign_in
from tests.signed import signed, status_event


@pytest.fixture
async def database(intake_settings):
    engine = make_engine(intake_settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def resident(intake, database, email="anna@example.org", *, verified=True):
    """A resident who verified their address with the mailed code (unless `verified`)."""
    return await register_and_sign_in(intake, email, name="Anna", verified=verified)


async def events(database, kind: str) -> list[dict]:
    async with database() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == kind)
        )
        return [json.loads(row.payload) for row in rows.all()]


class TestConsent:
    async def test_contact_goes_to_the_crm_only_with_consent(self, intake, database):
        anna = await resident(intake, database)
        shared = await intake.post(
            "/v1/reports", json=POTHOLE | {"share_contact": True}, headers=anna
        )
        await intake.post("/v1/reports", json=POTHOLE, headers=anna)
        await intake.post("/v1/reports", json=POTHOLE | {"share_contact": True})
        submitted = await events(database, "report.submitted.v1")
        contacts = {
            e["event"]["report_id"]: e["event"]["reporter_contact"] for e in submitted
        }
        assert contacts.pop(shared.json()["id"]) == {
            "name": "Anna",
            "email": "anna@example.org",
            "lang": "pl",
        }
        assert list(contacts.values()) == [None, None]
        mine = (await intake.get("/v1/me/reports", headers=anna)).json()["items"]
        assert sorted(r["share_contact"] for r in mine) == [False, True]
        public = (await intake.get(f"/v1/reports/{shared.json()['id']}")).json()
        assert "share_contact" not in public
        assert "anna@example.org" not in json.dumps(public)

    async def test_an_unproven_address_is_never_shared(self, intake, database):
        anna = await resident(intake, database, verified=False)
        await intake.post(
            "/v1/reports", json=POTHOLE | {"share_contact": True}, headers=anna
        )
        [event] = await events(database, "report.submitted.v1")
        assert event["event"]["reporter_contact"] is None

    async def test_the_adapter_keeps_the_contact_and_drops_it_on_erasure(
        self, intake, adapter, adapter_session, intake_session, database
    ):
        anna = await resident(intake, database)
        await intake.post(
            "/v1/reports", json=POTHOLE | {"share_contact": True}, headers=anna
        )

        async def hand_over(kind: str) -> None:
            [payload] = await events(database, kind)
            envelope = Envelope.model_validate(payload)
            body, headers = signed(envelope, DEV_SECRETS["intake_to_adapter"])
            response = await adapter.post(
                "/internal/events", content=body, headers=headers
            )
            assert response.status_code == 202

        await hand_over("report.submitted.v1")
        case = await adapter_session.scalar(select(Case))
        assert case.reporter_contact["email"] == "anna@example.org"

        assert (await intake.delete("/v1/me", headers=anna)).status_code == 204
        await hand_over("report.reporter_erased.v1")
        await adapter_session.rollback()
        await adapter_session.refresh(case)
        assert case.reporter_contact is None
        # No copy of the address is left anywhere, in either service's database.
        for base, session in (
            (IntakeBase, intake_session),
            (AdapterBase, adapter_session),
        ):
            await session.rollback()
            for table in base.metadata.sorted_tables:
                rows = (await session.execute(select(table))).all()
                assert "anna@example.org" not in repr(rows), table.name


class TestExport:
    async def test_everything_about_me_and_nothing_about_others(self, intake, database):
        anna = await resident(intake, database)
        ewa = await resident(intake, database, "ewa@example.org")
        report = (await intake.post("/v1/reports", json=POTHOLE, headers=anna)).json()
        await intake.post("/v1/reports", json=POTHOLE, headers=ewa)
        await intake.post(f"/v1/reports/{report['id']}/supporters", headers=ewa)
        await intake.post(
            "/v1/me/devices", json={"platform": "ios", "token": "a" * 64}, headers=anna
        )
        body, headers = status_event(report["id"], ReportStatus.RESOLVED, 1)
        await intake.post("/internal/events", content=body, headers=headers)
        await intake.post(
            f"/v1/reports/{report['id']}/feedback",
            json={"fixed": True, "rating": 4, "comment": "Dziękuję"},
            headers=anna,
        )
        idea = await intake.post(
            "/v1/ideas", json={"text": "Więcej ławek nad Odrą"}, headers=anna
        )
        assert idea.status_code == 201, idea.text

        response = await intake.get("/v1/me/export", headers=anna)
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        assert response.headers["cache-control"] == "no-store"
        data = response.json()
        assert data["account"]["email"] == "anna@example.org"
        assert [r["id"] for r in data["reports"]] == [report["id"]]
        assert data["reports"][0]["status_history"][-1]["status"] == "resolved"
        assert {n["report_id"] for n in data["notifications"]} == {report["id"]}
        assert [(f["rating"], f["comment"]) for f in data["feedback"]] == [
            (4, "Dziękuję")
        ]
        assert [i["text"] for i in data["ideas"]] == ["Więcej ławek nad Odrą"]
        assert [d["platform"] for d in data["devices"]] == ["ios"]
        assert "ewa@example.org" not in response.text

        theirs = (await intake.get("/v1/me/export", headers=ewa)).json()
        assert theirs["supported_reports"] == [report["id"]]
        assert theirs["notifications"] == [
            n for n in theirs["notifications"] if n["report_id"] == report["id"]
        ]
        assert (await intake.get("/v1/me/export")).status_code == 401


class TestErasure:
    async def test_erasing_keeps_the_reports_and_forgets_the_person(
        self, intake, intake_session, database
    ):
        anna = await resident(intake, database)
        ewa = await resident(intake, database, "ewa@example.org")
        shared = (
            await intake.post(
                "/v1/reports",
                json=POTHOLE | {"share_contact": True, "show_name": True},
                headers=anna,
            )
        ).json()
        private = (await intake.post("/v1/reports", json=POTHOLE, headers=anna)).json()
        theirs = (await intake.post("/v1/reports", json=POTHOLE, headers=ewa)).json()
        await intake.post(f"/v1/reports/{theirs['id']}/supporters", headers=anna)
        body, headers = status_event(shared["id"], ReportStatus.IN_PROGRESS, 1)
        await intake.post("/internal/events", content=body, headers=headers)

        assert (await intake.delete("/v1/me", headers=anna)).status_code == 204

        assert (await intake.get("/v1/me/reports", headers=anna)).status_code == 401
        for report in (shared, private):
            public = (await intake.get(f"/v1/reports/{report['id']}")).json()
            assert public["reported_by"] is None
            assert public["description"] == POTHOLE["description"]
        supported = (await intake.get(f"/v1/reports/{theirs['id']}")).json()
        assert supported["supporters"] == 1
        # Only the report whose contact went to the CRM needs erasing there.
        erased = await events(database, "report.reporter_erased.v1")
        assert [e["event"]["report_id"] for e in erased] == [shared["id"]]

        await intake_session.rollback()
        count = select(func.count())
        assert await intake_session.scalar(count.select_from(Account)) == 1
        assert await intake_session.scalar(count.select_from(Notification)) == 0
        assert (
            await intake_session.scalar(
                count.select_from(ReportSupporter).where(
                    ReportSupporter.account_id.is_not(None)
                )
            )
            == 0
        )
        # The address is free again.
        again = await register_and_sign_in(intake, "anna@example.org")
        assert (await intake.get("/v1/me/reports", headers=again)).json()["items"] == []

    async def test_erasure_needs_a_valid_token(self, intake):
        assert (await intake.delete("/v1/me")).status_code == 401
        bad = {"Authorization": f"Bearer {uuid.uuid4().hex}"}
        assert (await intake.delete("/v1/me", headers=bad)).status_code == 401
