import asyncio
import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func, select, update

from intake_service.categories import service as categories
from intake_service.categories.models import Category
from intake_service.db import OutboxEvent
from intake_service.reports.models import Report, ReportCounter
from shared.contracts import Envelope, ReportSubmittedV1, ResolutionTarget
from shared.db import make_engine, make_sessionmaker
from shared.sla import due_at
from tests.helpers import MONDAY_MORNING, POTHOLE, WARSAW, register_and_sign_in


async def count(session, model) -> int:
    return (await session.scalar(select(func.count()).select_from(model))) or 0


class TestSubmitReport:
    async def test_anonymous_report_is_stored_with_its_outbox_event(
        self, intake, intake_settings, intake_session, clock
    ):
        response = await intake.post("/v1/reports", json=POTHOLE)
        assert response.status_code == 201, response.text
        body = response.json()
        assert re.fullmatch(r"WRO-2026-\d{6}", body["number"])
        assert body["status"] == "received"
        assert body["unit"] is None
        created = dt.datetime.fromisoformat(body["created_at"])
        assert dt.timedelta(0) <= created - MONDAY_MORNING < dt.timedelta(minutes=1)
        expected = dt.datetime.fromisoformat(body["expected_resolution_at"])
        # A pothole's target is 5 working days: filed on Monday, due on the next Monday at
        # the same time.
        assert expected == due_at(
            created, calendar=intake_settings.calendar, working_days=5
        )
        assert expected - created == dt.timedelta(days=7)
        assert [h["status"] for h in body["status_history"]] == ["received"]

        report = await intake_session.get(Report, uuid.UUID(body["id"]))
        assert report is not None
        assert report.reporter_id is None
        event = await intake_session.scalar(select(OutboxEvent))
        assert event is not None
        assert event.status == "pending"
        sent = Envelope.model_validate_json(event.payload).event
        assert isinstance(sent, ReportSubmittedV1)
        assert (sent.report_id, sent.category, sent.number) == (
            report.id,
            "pothole",
            body["number"],
        )
        # The adapter learns the target, to track the same due time.
        assert sent.resolution_target == ResolutionTarget(working_days=5)
        assert sent.submitted_at == created

    @pytest.mark.parametrize(
        ("filed", "due"),
        [
            # On a weekend, counting starts on Monday: five whole working days end on Friday.
            (dt.datetime(2026, 12, 12, 12, 0), dt.datetime(2026, 12, 19, 0, 0)),
            (dt.datetime(2026, 12, 13, 23, 30), dt.datetime(2026, 12, 19, 0, 0)),
            # Friday evening: the fifth working day after it is the next Friday.
            (dt.datetime(2026, 12, 11, 22, 0), dt.datetime(2026, 12, 18, 22, 0)),
            # Christmas, Boxing Day and New Year's Day are not working days in Poland.
            (dt.datetime(2026, 12, 23, 9, 0), dt.datetime(2027, 1, 4, 9, 0)),
        ],
    )
    async def test_working_days_skip_weekends_and_holidays_whenever_it_is_filed(
        self, intake, clock, filed, due
    ):
        clock.set(filed.replace(tzinfo=WARSAW))
        response = await intake.post("/v1/reports", json=POTHOLE)
        assert response.status_code == 201, response.text
        expected = dt.datetime.fromisoformat(response.json()["expected_resolution_at"])
        # Due at the local time it was filed (the clock ticks on while the request runs).
        late = expected - due.replace(tzinfo=WARSAW)
        assert dt.timedelta(0) <= late < dt.timedelta(minutes=1)

    async def test_a_short_target_runs_on_the_clock(self, intake, intake_session):
        signal = {**POTHOLE, "category": "traffic_signal_fault"}
        response = await intake.post("/v1/reports", json=signal)
        assert response.status_code == 201, response.text
        body = response.json()
        created = dt.datetime.fromisoformat(body["created_at"])
        expected = dt.datetime.fromisoformat(body["expected_resolution_at"])
        assert expected - created == dt.timedelta(hours=4)
        event = await intake_session.scalar(select(OutboxEvent))
        assert event is not None
        sent = Envelope.model_validate_json(event.payload).event
        assert isinstance(sent, ReportSubmittedV1)
        assert sent.resolution_target == ResolutionTarget(hours=4)

    async def test_named_report_keeps_the_reporter_private(
        self, intake, intake_session
    ):
        headers = await register_and_sign_in(
            intake, "ewa@example.org", name="Ewa Prywatna"
        )
        created = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        assert created.status_code == 201
        report = await intake_session.get(Report, uuid.UUID(created.json()["id"]))
        assert report is not None
        assert report.reporter_id is not None
        public = await intake.get(f"/v1/reports/{report.id}")
        for private in ("ewa@example.org", "Ewa Prywatna", str(report.reporter_id)):
            assert private not in created.text
            assert private not in public.text

    async def test_numbers_count_up(self, intake):
        numbers = [
            (await intake.post("/v1/reports", json=POTHOLE)).json()["number"]
            for _ in range(3)
        ]
        serials = [int(n.rsplit("-", 1)[1]) for n in numbers]
        assert serials == [serials[0], serials[0] + 1, serials[0] + 2]

    async def test_texts_follow_the_language(self, intake):
        response = await intake.post("/v1/reports?lang=de", json=POTHOLE)
        assert response.json()["category"]["name"] == "Schlagloch"
        assert response.json()["status_name"] == "eingegangen"

    async def test_the_document_says_a_description_is_more_than_blanks(self, intake):
        """It is trimmed before its length is checked: the schema's pattern says so."""
        spec = (await intake.get("/openapi.json")).json()
        body = spec["paths"]["/v1/reports"]["post"]["requestBody"]["content"]
        # The JSON body and the multipart `report` part are the one ReportCreate.
        assert body["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ReportCreate"
        }
        report = body["multipart/form-data"]["schema"]["properties"]["report"]
        assert report["$ref"] == "#/components/schemas/ReportCreate"
        field = spec["components"]["schemas"]["ReportCreate"]["properties"][
            "description"
        ]
        assert field["minLength"] == 1
        # Whatever a regular expression engine takes `\s` for (re.ASCII: as narrow as
        # ECMA-262's), the pattern takes what the service takes.
        for text in (" ", "\x85", "\u3000\n", "\x1d", " dziura "):
            response = await intake.post(
                "/v1/reports", json=POTHOLE | {"description": text}
            )
            taken = bool(re.search(field["pattern"], text, re.ASCII))
            assert response.status_code == (201 if taken else 422), repr(text)

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"location": {"lat": False, "lon": 17.03}}, "location.lat"),
            ({"location": {"lat": "51.1", "lon": 17.03}}, "location.lat"),
            ({"location": {"lat": 91, "lon": 17.03}}, "location.lat"),
            ({"description": "   "}, "description"),
            ({"description": "x" * 2001}, "description"),
            ({"status": "resolved"}, "status"),
            ({"unit": "czk"}, "unit"),
            ({"description": "dziura\x00"}, "description"),
            ({"category": "pot\x00hole"}, "category"),
        ],
    )
    async def test_invalid_reports_are_refused_and_nothing_is_stored(
        self, intake, intake_session, change, field
    ):
        response = await intake.post(
            "/v1/reports", json=POTHOLE | change, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["title"] == "The request is not valid"
        assert field in {e["field"] for e in problem["errors"]}
        assert await count(intake_session, Report) == 0
        assert await count(intake_session, OutboxEvent) == 0

    async def test_unknown_category_is_named_in_the_error(self, intake, intake_session):
        response = await intake.post(
            "/v1/reports",
            json=POTHOLE | {"category": "ufo_sighting"},
            headers={"Accept-Language": "pl"},
        )
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:unknown-category"
        assert "ufo_sighting" in response.json()["detail"]
        assert await count(intake_session, Report) == 0

    async def test_an_inactive_category_takes_no_reports(self, intake, intake_db):
        async def set_active(active: bool) -> None:
            await intake_db.execute(
                update(Category).where(Category.code == "pothole").values(active=active)
            )
            await intake_db.commit()
            # As a change made through the service does (filing reads a kept copy).
            categories.forget_copies()

        await set_active(False)
        try:
            response = await intake.post("/v1/reports", json=POTHOLE)
        finally:
            await set_active(True)  # categories are shared by every test
        assert response.status_code == 422
        assert response.json()["type"] == "urn:mam:problem:unknown-category"
        assert (await intake.post("/v1/reports", json=POTHOLE)).status_code == 201

    async def test_the_description_is_stored_trimmed(self, intake):
        padded = POTHOLE | {"description": "  \n Dziura przy przejściu \t "}
        created = (await intake.post("/v1/reports", json=padded)).json()
        stored = (await intake.get(f"/v1/reports/{created['id']}")).json()
        assert stored["description"] == "Dziura przy przejściu"

    async def test_a_bad_token_is_refused_rather_than_filed_anonymously(
        self, intake, intake_session
    ):
        response = await intake.post(
            "/v1/reports", json=POTHOLE, headers={"Authorization": "Bearer expired"}
        )
        assert response.status_code == 401
        assert await count(intake_session, Report) == 0

    async def test_malformed_json_is_a_problem_not_a_crash(self, intake):
        response = await intake.post(
            "/v1/reports",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"


class TestNumbers:
    async def test_reports_filed_at_once_get_distinct_increasing_numbers(
        self, intake, clock
    ):
        answers = await asyncio.gather(
            *(intake.post("/v1/reports", json=POTHOLE) for _ in range(12))
        )
        assert [a.status_code for a in answers] == [201] * 12
        numbers = sorted(a.json()["number"] for a in answers)
        assert numbers == [f"WRO-2026-{n:06d}" for n in range(1, 13)]

    async def test_numbering_goes_on_from_the_years_counter(
        self, intake, intake_settings, clock
    ):
        # Reports numbered by a counter row before (a year no other test files in) keep
        # their numbers.
        clock.set(dt.datetime(2031, 3, 3, 9, 0, tzinfo=WARSAW))
        engine = make_engine(intake_settings.database_url)
        async with make_sessionmaker(engine)() as session:
            session.add(ReportCounter(year=2031, last=41))
            await session.commit()
        await engine.dispose()
        first = await intake.post("/v1/reports", json=POTHOLE)
        second = await intake.post("/v1/reports", json=POTHOLE)
        assert first.json()["number"] == "WRO-2031-000042"
        assert second.json()["number"] == "WRO-2031-000043"

    async def test_a_new_year_starts_at_one(self, intake, clock):
        await intake.post("/v1/reports", json=POTHOLE)
        clock.set(dt.datetime(2027, 1, 4, 9, 0, tzinfo=WARSAW))
        response = await intake.post("/v1/reports", json=POTHOLE)
        assert response.json()["number"] == "WRO-2027-000001"


class TestReadReport:
    async def test_unknown_report_is_a_localized_404(self, intake):
        response = await intake.get(
            f"/v1/reports/{uuid.uuid4()}", headers={"Accept-Language": "de"}
        )
        assert response.status_code == 404
        assert response.json()["title"] == "Meldung nicht gefunden"

    async def test_malformed_id_is_a_422(self, intake):
        response = await intake.get("/v1/reports/not-a-uuid")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "report_id"

    async def test_unknown_path_is_a_problem_too(self, intake):
        response = await intake.get(
            "/v1/nothing-here", headers={"Accept-Language": "en"}
        )
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == {
            "type": "urn:mam:problem:not-found",
            "title": "Not found",
            "status": 404,
            "detail": "There is nothing at this address.",
        }

    async def test_a_wrong_method_names_the_allowed_ones_in_german(self, intake):
        response = await intake.put("/v1/reports", headers={"Accept-Language": "de"})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"
        assert response.json()["type"] == "urn:mam:problem:method-not-allowed"
        assert (
            response.json()["detail"] == "Diese Adresse nimmt diese Methode nicht an."
        )


class TestBodyLimit:
    async def test_a_huge_body_is_refused_before_it_is_read(
        self, intake, intake_session
    ):
        huge = b'{"description": "' + b"x" * (2 * 1024 * 1024) + b'"}'
        response = await intake.post(
            "/v1/reports",
            content=huge,
            headers={"content-type": "application/json", "Accept-Language": "pl"},
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Treść żądania jest za duża"
        assert await count(intake_session, Report) == 0

    async def test_a_streamed_body_is_cut_off_at_the_limit(self, intake):
        async def chunks():
            for _ in range(40):
                yield b"x" * 65536

        response = await intake.post(
            "/v1/reports",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
