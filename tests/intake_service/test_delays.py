"""A resident is told, in their language, when their report is held up on its way into the
city's CRM: by the adapter's word (the newest by `as_of`, and none once the CRM has the
report), or by intake's own hand-over failing for longer than the notice period."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import update

from intake_service.db import OutboxEvent
from shared.contracts import Envelope, ReportDeliveryDelayedV1, ReportStatus
from shared.db import utcnow
from shared.outbox import DEAD, IN_FLIGHT, PENDING, SENT
from shared.settings import DEV_SECRETS
from tests.helpers import POTHOLE, READ, register_and_sign_in
from tests.signed import signed, status_event

HELD_UP = {
    "en": "The city's system is not answering just now. Your report is safe and will "
    "be passed on as soon as it answers.",
    "pl": "System miasta chwilowo nie odpowiada. Twoje zgłoszenie jest bezpieczne i "
    "zostanie przekazane, gdy tylko zacznie odpowiadać.",
    "de": "Das System der Stadt antwortet gerade nicht. Ihre Meldung ist sicher und "
    "wird weitergeleitet, sobald es wieder antwortet.",
}
STOPPED = {
    "en": "Passing your report on has stopped. The city's staff have been alerted and "
    "will send it again.",
    "pl": "Przekazywanie Twojego zgłoszenia zostało wstrzymane. Pracownicy miasta "
    "zostali powiadomieni i wyślą je ponownie.",
    "de": "Die Weiterleitung Ihrer Meldung wurde angehalten. Die Mitarbeitenden der "
    "Stadt sind informiert und senden sie erneut.",
}

T0 = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


async def file(intake, headers=None) -> str:
    response = await intake.post("/v1/reports", json=POTHOLE, headers=headers or {})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def tell(
    intake,
    report_id: str,
    *,
    delayed: bool,
    as_of: dt.datetime,
    dead: bool = False,
    since: dt.datetime | None = T0,
) -> None:
    """The adapter's word on the report's delay, as its relay sends it."""
    event = ReportDeliveryDelayedV1(
        report_id=uuid.UUID(report_id),
        delayed=delayed,
        dead=dead,
        since=since if delayed else None,
        as_of=as_of,
    )
    envelope = Envelope(occurred_at=as_of, source="adapter", event=event)
    body, headers = signed(envelope, DEV_SECRETS["adapter_to_intake"])
    response = await intake.post("/internal/events", content=body, headers=headers)
    assert response.status_code == 202, response.text


async def delay_of(intake, report_id: str, lang: str = "en") -> dict | None:
    response = await intake.get(f"/v1/reports/{report_id}", params={"lang": lang})
    assert response.status_code == 200, response.text
    delay: dict | None = response.json()["delay"]
    return delay


class TestAdaptersWord:
    @pytest.mark.parametrize("lang", ["pl", "en", "de"])
    async def test_a_held_up_report_shows_a_calm_note_in_the_residents_language(
        self, intake, lang
    ):
        report_id = await file(intake)
        assert await delay_of(intake, report_id) is None
        await tell(intake, report_id, delayed=True, as_of=T0 + minutes(31))
        delay = await delay_of(intake, report_id, lang)
        assert delay is not None
        assert delay["note"] == HELD_UP[lang]
        assert (dt.datetime.fromisoformat(delay["since"]), delay["dead"]) == (
            T0,
            False,
        )
        # Negotiated from Accept-Language as every other text.
        response = await intake.get(
            f"/v1/reports/{report_id}", headers={"Accept-Language": lang}
        )
        assert response.json()["delay"]["note"] == HELD_UP[lang]
        assert response.json()["status"] == "received"

    @pytest.mark.parametrize("lang", ["pl", "en", "de"])
    async def test_a_dead_one_says_passing_it_on_stopped(self, intake, lang):
        report_id = await file(intake)
        await tell(intake, report_id, delayed=True, dead=True, as_of=T0 + minutes(1))
        delay = await delay_of(intake, report_id, lang)
        assert delay is not None
        assert (delay["note"], delay["dead"]) == (STOPPED[lang], True)

    async def test_the_note_goes_when_the_adapter_says_it_moves_again(self, intake):
        report_id = await file(intake)
        await tell(intake, report_id, delayed=True, dead=True, as_of=T0 + minutes(1))
        await tell(intake, report_id, delayed=False, as_of=T0 + minutes(2))
        assert await delay_of(intake, report_id) is None

    async def test_an_older_word_arriving_late_changes_nothing(self, intake):
        cleared = await file(intake)
        await tell(intake, cleared, delayed=False, as_of=T0 + minutes(40))
        await tell(intake, cleared, delayed=True, as_of=T0 + minutes(31))
        assert await delay_of(intake, cleared) is None

        stopped = await file(intake)
        await tell(intake, stopped, delayed=True, dead=True, as_of=T0 + minutes(40))
        await tell(intake, stopped, delayed=True, as_of=T0 + minutes(31))
        await tell(intake, stopped, delayed=False, as_of=T0 + minutes(35))
        delay = await delay_of(intake, stopped)
        assert delay is not None
        assert delay["dead"] is True

    async def test_a_report_the_crm_has_takes_no_word_of_a_delay(self, intake):
        report_id = await file(intake)
        body, headers = status_event(report_id, ReportStatus.SUBMITTED, 1)
        assert (
            await intake.post("/internal/events", content=body, headers=headers)
        ).status_code == 202
        await tell(intake, report_id, delayed=True, as_of=T0 + minutes(31))
        assert await delay_of(intake, report_id) is None

    async def test_a_note_taken_while_received_goes_once_the_crm_has_it(self, intake):
        report_id = await file(intake)
        await tell(intake, report_id, delayed=True, as_of=T0 + minutes(31))
        body, headers = status_event(report_id, ReportStatus.SUBMITTED, 1)
        await intake.post("/internal/events", content=body, headers=headers)
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert (report["status"], report["delay"]) == ("submitted", None)

    async def test_a_word_about_an_unknown_report_is_acknowledged_and_held(
        self, intake
    ):
        await tell(intake, str(uuid.uuid4()), delayed=True, as_of=T0)
        listed = await intake.get("/v1/operator/inbox", headers=READ)
        [kept] = listed.json()
        assert (kept["message_type"], kept["last_error"]) == (
            "report.delivery_delayed.v1",
            "unknown report",
        )

    async def test_the_reporters_own_views_show_it(self, intake):
        headers = await register_and_sign_in(intake, "ola@example.org", lang="pl")
        report_id = await file(intake, headers)
        await tell(intake, report_id, delayed=True, as_of=T0 + minutes(31))
        mine = await intake.get(
            "/v1/me/reports", headers=headers | {"Accept-Language": "pl"}
        )
        assert mine.status_code == 200
        [item] = mine.json()["items"]
        assert item["delay"]["note"] == HELD_UP["pl"]
        changed = await intake.patch(
            f"/v1/me/reports/{report_id}",
            json={"show_name": True},
            headers=headers | {"Accept-Language": "de"},
        )
        assert changed.status_code == 200
        assert changed.json()["delay"]["note"] == HELD_UP["de"]


async def set_handover(intake_db, report_id: str, **values) -> None:
    """The report's hand-over in intake's outbox, as the relay left it."""
    await intake_db.execute(
        update(OutboxEvent)
        .where(
            OutboxEvent.aggregate_id == uuid.UUID(report_id),
            OutboxEvent.event_type == "report.submitted.v1",
        )
        .values(**values)
    )
    await intake_db.commit()


class TestIntakesOwnHandover:
    async def test_a_handover_failing_past_the_notice_shows_the_note(
        self, intake, intake_db, clock
    ):
        report_id = await file(intake)
        filed_at = utcnow()
        # Failed, and tried again later: not yet for long enough.
        await set_handover(intake_db, report_id, status=PENDING, attempts=3)
        clock.advance(minutes(29))
        assert await delay_of(intake, report_id) is None

        clock.advance(minutes(2))
        delay = await delay_of(intake, report_id, "de")
        assert delay is not None
        assert (delay["note"], delay["dead"]) == (HELD_UP["de"], False)
        since = dt.datetime.fromisoformat(delay["since"])
        assert abs(since - filed_at) < dt.timedelta(seconds=5)

        # A new attempt under way after failed ones: still held up.
        await set_handover(intake_db, report_id, status=IN_FLIGHT, attempts=4)
        assert await delay_of(intake, report_id) is not None

        await set_handover(intake_db, report_id, status=SENT, attempts=5)
        assert await delay_of(intake, report_id) is None

    async def test_a_handover_not_tried_yet_is_no_failure(
        self, intake, intake_db, clock
    ):
        report_id = await file(intake)
        clock.advance(minutes(45))
        assert await delay_of(intake, report_id) is None
        await set_handover(intake_db, report_id, status=IN_FLIGHT, attempts=1)
        assert await delay_of(intake, report_id) is None

    async def test_a_dead_handover_says_it_stopped_at_once(self, intake, intake_db):
        report_id = await file(intake)
        await set_handover(intake_db, report_id, status=DEAD, attempts=30)
        delay = await delay_of(intake, report_id, "pl")
        assert delay is not None
        assert (delay["note"], delay["dead"]) == (STOPPED["pl"], True)

    async def test_the_reporters_list_reads_every_report_at_once(
        self, intake, intake_db
    ):
        headers = await register_and_sign_in(intake, "jan@example.org")
        stuck = await file(intake, headers)
        fine = await file(intake, headers)
        told = await file(intake, headers)
        await set_handover(
            intake_db,
            stuck,
            status=PENDING,
            attempts=2,
            created_at=utcnow() - minutes(31),
        )
        await set_handover(intake_db, fine, status=SENT, attempts=1)
        await set_handover(intake_db, told, status=SENT, attempts=1)
        await tell(intake, told, delayed=True, dead=True, as_of=utcnow())
        items = (
            await intake.get(
                "/v1/me/reports", headers=headers | {"Accept-Language": "en"}
            )
        ).json()["items"]
        delays = {item["id"]: item["delay"] for item in items}
        assert delays[fine] is None
        assert delays[stuck]["note"] == HELD_UP["en"]
        assert delays[told]["note"] == STOPPED["en"]
