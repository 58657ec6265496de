import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from intake_service.db import OutboxEvent
from intake_service.feedback.models import Feedback
from shared.contracts import (
    Envelope,
    ReportCommentAddedV1,
    ReportReopenRequestedV1,
    ReportStatus,
)
from shared.db import make_engine, make_sessionmaker
from tests.helpers import POTHOLE, register_and_sign_in
from tests.signed import status_event

NOT_FIXED = {"fixed": False, "rating": 2, "comment": "  Dziura nadal jest.  "}
FIXED = {"fixed": True, "rating": 5}


async def file(intake, headers=None) -> str:
    response = await intake.post("/v1/reports", json=POTHOLE, headers=headers or {})
    assert response.status_code == 201
    return str(response.json()["id"])


async def deliver(intake, body_and_headers):
    body, headers = body_and_headers
    response = await intake.post("/internal/events", content=body, headers=headers)
    assert response.status_code == 202
    return response


async def close(intake, report_id, status=ReportStatus.RESOLVED, *, sequence=3):
    """Submitted, in progress, then closed, as the adapter reports it."""
    await deliver(intake, status_event(report_id, ReportStatus.SUBMITTED, 1))
    await deliver(intake, status_event(report_id, ReportStatus.IN_PROGRESS, 2))
    await deliver(intake, status_event(report_id, status, sequence, note="Zrobione"))


async def notifications(intake, headers) -> list[dict]:
    response = await intake.get("/v1/me/notifications", headers=headers)
    assert response.status_code == 200
    return response.json()["items"]


async def outbox(intake_session) -> list[Envelope]:
    payloads = (
        await intake_session.scalars(
            select(OutboxEvent.payload).order_by(OutboxEvent.seq)
        )
    ).all()
    return [Envelope.model_validate_json(p) for p in payloads]


@pytest.fixture
async def reporter(intake) -> dict[str, str]:
    return await register_and_sign_in(intake, "anna@example.org", lang="en")


class TestFeedbackRequested:
    @pytest.mark.parametrize("status", [ReportStatus.RESOLVED, ReportStatus.REJECTED])
    async def test_the_reporter_alone_is_asked_once_when_it_closes(
        self, intake, reporter, status
    ):
        report_id = await file(intake, reporter)
        supporter = await register_and_sign_in(intake, "ewa@example.org")
        await intake.post(f"/v1/reports/{report_id}/supporters", headers=supporter)
        await deliver(intake, status_event(report_id, ReportStatus.IN_PROGRESS, 1))
        closing = status_event(report_id, status, 2)
        await deliver(intake, closing)
        await deliver(intake, closing)  # the same envelope again
        await deliver(
            intake, status_event(report_id, status, 2)
        )  # a new one, same change

        asked = [
            n
            for n in await notifications(intake, reporter)
            if n["kind"] == "feedback_requested"
        ]
        assert [(n["report_id"], n["status"]) for n in asked] == [(report_id, status)]
        assert "Was it really fixed?" in asked[0]["text"]
        assert [n["kind"] for n in await notifications(intake, supporter)] == [
            "status_changed",
            "status_changed",
        ]

    async def test_a_note_on_a_closed_report_asks_nothing_more(self, intake, reporter):
        report_id = await file(intake, reporter)
        await close(intake, report_id)
        await deliver(
            intake, status_event(report_id, ReportStatus.RESOLVED, 4, note="Poprawka")
        )
        await deliver(intake, status_event(report_id, ReportStatus.REJECTED, 5))
        kinds = [n["kind"] for n in await notifications(intake, reporter)]
        assert kinds.count("feedback_requested") == 1


class TestGiveFeedback:
    async def test_an_open_report_is_a_409(self, intake, reporter):
        report_id = await file(intake, reporter)
        await deliver(intake, status_event(report_id, ReportStatus.IN_PROGRESS, 1))
        response = await intake.post(
            f"/v1/reports/{report_id}/feedback", json=FIXED, headers=reporter
        )
        assert response.status_code == 409
        assert response.json()["type"] == "urn:mam:problem:report-not-closed"

    async def test_only_the_reporter_may_answer_and_others_are_told_so(
        self, intake, reporter
    ):
        report_id = await file(intake, reporter)
        supporter = await register_and_sign_in(intake, "obcy@example.org")
        supported = await intake.post(
            f"/v1/reports/{report_id}/supporters", headers=supporter
        )
        assert supported.status_code in (200, 201), supported.text
        await close(intake, report_id)
        for method in ("POST", "PUT", "GET"):
            body = FIXED if method != "GET" else None
            response = await intake.request(
                method,
                f"/v1/reports/{report_id}/feedback",
                json=body,
                headers={**supporter, "Accept-Language": "pl"},
            )
            assert response.status_code == 403, method
            problem = response.json()
            assert problem["type"] == "urn:mam:problem:not-the-reporter"
            assert problem["title"] == "Tylko zgłaszający może odpowiedzieć"
        unknown = f"/v1/reports/{uuid.uuid4()}/feedback"
        for method in ("POST", "PUT", "GET"):
            body = FIXED if method != "GET" else None
            response = await intake.request(
                method, unknown, json=body, headers=supporter
            )
            assert response.status_code == 404, method
            assert response.json()["type"] == "urn:mam:problem:report-not-found"
            for path in (f"/v1/reports/{report_id}/feedback", unknown):
                anonymous = await intake.request(method, path, json=body)
                assert anonymous.status_code == 401, (method, path)
        anonymous_report = await file(intake)
        await close(intake, anonymous_report)
        response = await intake.post(
            f"/v1/reports/{anonymous_report}/feedback", json=FIXED, headers=reporter
        )
        assert response.status_code == 403

    async def test_answers_once_per_closing_and_shows_only_fixed_publicly(
        self, intake, reporter, intake_session
    ):
        report_id = await file(intake, reporter)
        await close(intake, report_id)
        answer = {"fixed": True, "rating": 4, "comment": "  Dziękuję!  "}
        given = await intake.post(
            f"/v1/reports/{report_id}/feedback", json=answer, headers=reporter
        )
        assert given.status_code == 201, given.text
        body = given.json()
        assert (body["fixed"], body["rating"], body["comment"]) == (
            True,
            4,
            "Dziękuję!",
        )
        assert (body["closed_status"], body["reopened"]) == ("resolved", False)
        created_at = dt.datetime.fromisoformat(body["created_at"])
        assert dt.datetime.fromisoformat(body["editable_until"]) == created_at + (
            dt.timedelta(days=7)
        )

        again = await intake.post(
            f"/v1/reports/{report_id}/feedback", json=FIXED, headers=reporter
        )
        assert again.status_code == 409
        assert again.json()["type"] == "urn:mam:problem:feedback-already-given"

        own = await intake.get(f"/v1/reports/{report_id}/feedback", headers=reporter)
        assert own.status_code == 200
        assert own.json()["comment"] == "Dziękuję!"
        public = await intake.get(f"/v1/reports/{report_id}")
        assert public.json()["status"] == "resolved"
        assert public.json()["feedback"] == {"fixed": True}
        assert "Dziękuję" not in public.text
        listed = await intake.get("/v1/reports")
        assert listed.json()["items"][0]["feedback"] == {"fixed": True}
        # Nothing for the CRM: a "fixed" answer is only recorded.
        assert [e.event.type for e in await outbox(intake_session)] == [
            "report.submitted.v1"
        ]

    async def test_no_answer_yet_is_a_404_of_its_own(self, intake, reporter):
        report_id = await file(intake, reporter)
        await close(intake, report_id)
        for method in ("GET", "PUT"):
            response = await intake.request(
                method,
                f"/v1/reports/{report_id}/feedback",
                json=FIXED if method == "PUT" else None,
                headers=reporter,
            )
            assert response.status_code == 404
            assert response.json()["type"] == "urn:mam:problem:feedback-not-found"

    @pytest.mark.parametrize(
        "body",
        [
            {"fixed": True, "rating": 0},
            {"fixed": True, "rating": 6},
            {"fixed": "yes", "rating": 3},
            {"fixed": True, "rating": "3"},
            {"fixed": True, "rating": 3.5},
            {"fixed": True, "rating": 3, "comment": "x" * 2001},
            {"fixed": True, "rating": 3, "comment": "nul\x00"},
            {"fixed": True, "rating": 3, "who": "me"},
            {"rating": 3},
        ],
    )
    async def test_an_invalid_answer_is_a_422_and_stores_nothing(
        self, intake, reporter, intake_session, body
    ):
        report_id = await file(intake, reporter)
        await close(intake, report_id)
        response = await intake.post(
            f"/v1/reports/{report_id}/feedback", json=body, headers=reporter
        )
        assert response.status_code == 422
        assert await intake_session.scalar(select(Feedback)) is None

    async def test_a_rating_written_as_4_point_0_is_a_whole_number(
        self, intake, reporter
    ):
        """JSON Schema's `integer`, as the document says, takes 4.0 as well as 4."""
        report_id = await file(intake, reporter)
        await close(intake, report_id)
        response = await intake.post(
            f"/v1/reports/{report_id}/feedback",
            json={"fixed": True, "rating": 4.0},
            headers=reporter,
        )
        assert response.status_code == 201, response.text
        assert response.json()["rating"] == 4

    async def test_a_blank_comment_is_none(self, intake, reporter):
        report_id = await file(intake, reporter)
        await close(intake, report_id)
        response = await intake.post(
            f"/v1/reports/{report_id}/feedback",
            json={"fixed": True, "rating": 3, "comment": " \n "},
            headers=reporter,
        )
        assert response.status_code == 201
        assert response.json()["comment"] is None


class TestChangeFeedback:
    async def test_can_be_changed_for_7_days_then_not(
        self, intake, reporter, intake_settings
    ):
        report_id = await file(intake, reporter)
        await close(intake, report_id, ReportStatus.REJECTED)
        url = f"/v1/reports/{report_id}/feedback"
        assert (await intake.post(url, json=FIXED, headers=reporter)).status_code == 201
        changed = await intake.put(
            url,
            json={"fixed": True, "rating": 1, "comment": "Jednak źle"},
            headers=reporter,
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["rating"], changed.json()["comment"]) == (
            1,
            "Jednak źle",
        )
        assert (await intake.get(url, headers=reporter)).json()["rating"] == 1

        engine = make_engine(intake_settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                feedback = await session.scalar(select(Feedback))
                assert feedback is not None
                feedback.created_at -= dt.timedelta(days=7, seconds=1)
                await session.commit()
        finally:
            await engine.dispose()
        late = await intake.put(url, json=FIXED, headers=reporter)
        assert late.status_code == 409
        assert late.json()["type"] == "urn:mam:problem:feedback-locked"
        assert (await intake.get(url, headers=reporter)).json()["rating"] == 1

    async def test_changing_to_not_fixed_reopens_a_resolved_report(
        self, intake, reporter, intake_session
    ):
        report_id = await file(intake, reporter)
        await close(intake, report_id)
        url = f"/v1/reports/{report_id}/feedback"
        await intake.post(url, json=FIXED, headers=reporter)
        changed = await intake.put(url, json=NOT_FIXED, headers=reporter)
        assert changed.status_code == 200
        assert changed.json()["reopened"] is True
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert (report["status"], report["feedback"]) == ("reopened", {"fixed": False})
        # Back to "fixed" records the answer; the CRM has the case again and decides.
        back = await intake.put(url, json=FIXED, headers=reporter)
        assert back.status_code == 200
        assert (await intake.get(f"/v1/reports/{report_id}")).json()[
            "status"
        ] == "reopened"
        types = [e.event.type for e in await outbox(intake_session)]
        assert types == ["report.submitted.v1", "report.reopen_requested.v1"]


class TestNotFixed:
    async def test_reopens_a_resolved_report_for_everyone_at_once(
        self, intake, reporter, intake_session
    ):
        report_id = await file(intake, reporter)
        supporter = await register_and_sign_in(intake, "ewa@example.org", lang="de")
        await intake.post(f"/v1/reports/{report_id}/supporters", headers=supporter)
        await close(intake, report_id)

        response = await intake.post(
            f"/v1/reports/{report_id}/feedback", json=NOT_FIXED, headers=reporter
        )
        assert response.status_code == 201, response.text
        assert response.json()["reopened"] is True

        public = (await intake.get(f"/v1/reports/{report_id}?lang=en")).json()
        assert public["status"] == "reopened"
        assert public["feedback"] == {"fixed": False}
        history = [(h["status"], h["note"]) for h in public["status_history"]]
        # The comment is the reporter's: the public sees that it was reopened, not why.
        assert history == [
            ("received", None),
            ("submitted", None),
            ("in_progress", None),
            ("resolved", "Zrobione"),
            ("reopened", None),
        ]
        mine = (await intake.get("/v1/me/reports", headers=reporter)).json()["items"]
        assert mine[0]["status_history"][-1]["note"] == "Dziura nadal jest."

        events = await outbox(intake_session)
        assert [e.event.type for e in events] == [
            "report.submitted.v1",
            "report.reopen_requested.v1",
        ]
        reopen = events[1].event
        assert isinstance(reopen, ReportReopenRequestedV1)
        assert (str(reopen.report_id), reopen.comment, reopen.rating) == (
            report_id,
            "Dziura nadal jest.",
            2,
        )
        assert reopen.after_sequence == 3

        # The supporter hears of it; the reporter, who did it, is not told.
        supporter_items = await notifications(intake, supporter)
        assert supporter_items[0]["status"] == "reopened"
        assert "Dziura nadal" not in supporter_items[0]["text"]
        assert "reopened" not in [
            n["status"] for n in await notifications(intake, reporter)
        ]

    async def test_a_rejected_report_stays_rejected_and_the_comment_goes_to_the_crm(
        self, intake, reporter, intake_session
    ):
        report_id = await file(intake, reporter)
        await close(intake, report_id, ReportStatus.REJECTED)
        response = await intake.post(
            f"/v1/reports/{report_id}/feedback", json=NOT_FIXED, headers=reporter
        )
        assert response.status_code == 201
        assert (response.json()["reopened"], response.json()["closed_status"]) == (
            False,
            "rejected",
        )
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert (report["status"], report["feedback"]) == ("rejected", {"fixed": False})
        events = await outbox(intake_session)
        assert [e.event.type for e in events] == [
            "report.submitted.v1",
            "report.comment_added.v1",
        ]
        comment = events[1].event
        assert isinstance(comment, ReportCommentAddedV1)
        assert (comment.comment, comment.fixed, comment.rating) == (
            "Dziura nadal jest.",
            False,
            2,
        )

    async def test_without_a_comment_a_rejected_report_sends_nothing(
        self, intake, reporter, intake_session
    ):
        report_id = await file(intake, reporter)
        await close(intake, report_id, ReportStatus.REJECTED)
        await intake.post(
            f"/v1/reports/{report_id}/feedback",
            json={"fixed": False, "rating": 1},
            headers=reporter,
        )
        assert [e.event.type for e in await outbox(intake_session)] == [
            "report.submitted.v1"
        ]


async def sent_reopen_id(intake_session) -> uuid.UUID:
    await intake_session.rollback()  # end the last read, to see the latest commit
    event = (await outbox(intake_session))[-1].event
    assert isinstance(event, ReportReopenRequestedV1)
    return event.reopen_id


async def history(intake, report_id) -> list[str]:
    report = (await intake.get(f"/v1/reports/{report_id}")).json()
    return [h["status"] for h in report["status_history"]]


class TestReopenOrder:
    async def test_an_older_crm_change_does_not_undo_the_reopen(
        self, intake, reporter, intake_session
    ):
        report_id = await file(intake, reporter)
        await close(intake, report_id)
        await intake.post(
            f"/v1/reports/{report_id}/feedback", json=NOT_FIXED, headers=reporter
        )
        reopen_id = await sent_reopen_id(intake_session)
        before = ["received", "submitted", "in_progress", "resolved", "reopened"]

        # Sent by the adapter before it knew of the reopen: a newer sequence, still older.
        await deliver(
            intake,
            status_event(report_id, ReportStatus.RESOLVED, 4, note="Sprzątnięte"),
        )
        await deliver(intake, status_event(report_id, ReportStatus.IN_PROGRESS, 2))
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert report["status"] == "reopened"
        assert await history(intake, report_id) == before

        # The adapter's answer to the reopen changes nothing visible, once.
        answer = status_event(report_id, ReportStatus.REOPENED, 5, reopen_id=reopen_id)
        await deliver(intake, answer)
        await deliver(intake, answer)
        assert await history(intake, report_id) == before

        # The CRM's next change after the reopen is applied as usual, and asks again.
        await deliver(intake, status_event(report_id, ReportStatus.IN_PROGRESS, 6))
        await deliver(intake, status_event(report_id, ReportStatus.RESOLVED, 7))
        assert await history(intake, report_id) == [
            *before,
            "in_progress",
            "resolved",
        ]
        asked = [
            n["status"]
            for n in await notifications(intake, reporter)
            if n["kind"] == "feedback_requested"
        ]
        assert asked == ["resolved", "resolved"]
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert report["feedback"] is None  # the answer was about the earlier closing
        # A new closing, a new answer.
        again = await intake.post(
            f"/v1/reports/{report_id}/feedback", json=FIXED, headers=reporter
        )
        assert again.status_code == 201
        assert (await intake.get(f"/v1/reports/{report_id}")).json()["feedback"] == {
            "fixed": True
        }

    async def test_a_second_reopen_gets_an_entry_of_its_own(
        self, intake, reporter, intake_session
    ):
        report_id = await file(intake, reporter)
        await close(intake, report_id)
        url = f"/v1/reports/{report_id}/feedback"
        await intake.post(url, json=NOT_FIXED, headers=reporter)
        reopen_id = await sent_reopen_id(intake_session)
        await deliver(
            intake,
            status_event(report_id, ReportStatus.REOPENED, 4, reopen_id=reopen_id),
        )
        await deliver(intake, status_event(report_id, ReportStatus.RESOLVED, 5))
        assert (
            await intake.post(url, json=NOT_FIXED, headers=reporter)
        ).status_code == 201
        statuses = await history(intake, report_id)
        assert statuses[-3:] == ["reopened", "resolved", "reopened"]
