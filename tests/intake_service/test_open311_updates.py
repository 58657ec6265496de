"""`POST servicerequestupdates`: an Open311 client's comment or reopening reaches the CRM
case (through intake's outbox, as a resident's feedback does), once per `update_id`."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from intake_service.config import Settings
from intake_service.db import OutboxEvent
from shared.contracts import ReportStatus
from shared.db import make_engine, make_sessionmaker
from shared.operators import ConfiguredKey, hash_key
from tests.helpers import OPEN311_KEY, OPEN311_KEYS
from tests.intake_service.test_open311 import FORM, V2, as_json, error_of, xml
from tests.signed import status_event

OTHER_KEY = "mam_op_test-only-other-open311-client-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
COMMENT = "Dziura wciąż jest, po deszczu jeszcze większa."


@pytest.fixture(params=["xml", "json"])
def fmt(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def intake_settings(intake_settings: Settings) -> Settings:
    """A second client besides FixMyStreet, with update ids of its own."""
    other = ConfiguredKey(name="city-app", sha256=hash_key(OTHER_KEY))
    return intake_settings.model_copy(
        update={"open311_api_keys": [*OPEN311_KEYS, other]}
    )


async def filed(intake: Any, *closing: ReportStatus) -> dict[str, Any]:
    """A request filed over Open311, taken by the CRM and moved through `closing`; the
    report as residents see it."""
    response = await intake.post(f"{V2}/requests.json", data=FORM)
    assert response.status_code == 200, response.text
    number = response.json()[0]["service_request_id"]
    listed = (await intake.get("/v1/reports")).json()["items"]
    [report] = [r for r in listed if r["number"] == number]
    for sequence, status in enumerate([ReportStatus.SUBMITTED, *closing], start=1):
        body, headers = status_event(report["id"], status, sequence)
        delivered = await intake.post("/internal/events", content=body, headers=headers)
        assert delivered.status_code == 202
    return dict(report)


def update_form(report: dict[str, Any], **changes: str) -> dict[str, str]:
    """An update as FixMyStreet posts it."""
    return {
        "api_key": OPEN311_KEY,
        "jurisdiction_id": "wroclaw.pl",
        "service_request_id": report["number"],
        "update_id": "8812",
        "updated_datetime": "2026-12-09T08:15:00+01:00",
        "status": "OPEN",
        "description": COMMENT,
        "email": "jan.kowalski@example.org",
        "first_name": "Jan",
        "last_name": "Kowalski",
        "media_url": "",
    } | changes


def update_id_of(response: Any, fmt: str) -> str:
    """The update id of the answer, read as a client reads it."""
    assert response.status_code == 200, response.text
    if fmt == "json":
        [answer] = as_json(response)
        assert set(answer) == {"update_id"}
        return str(answer["update_id"])
    root = xml(response)
    assert root.tag == "service_request_updates"
    [update] = root.findall("request_update")
    assert [child.tag for child in update] == ["update_id"]
    return update.findtext("update_id") or ""


async def events_of(settings: Settings, report_id: str) -> list[dict[str, Any]]:
    """The events intake has for the adapter about the report, oldest first."""
    engine = make_engine(settings.database_url, read_only=True)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.aggregate_id == uuid.UUID(report_id))
                    .order_by(OutboxEvent.seq)
                )
            ).all()
    finally:
        await engine.dispose()
    return [json.loads(row.payload)["event"] for row in rows]


async def test_an_update_on_an_open_request_is_a_comment_for_the_crm(
    intake, intake_settings, fmt
):
    report = await filed(intake)
    response = await intake.post(
        f"{V2}/servicerequestupdates.{fmt}", data=update_form(report)
    )
    update_id = update_id_of(response, fmt)
    *_, comment = await events_of(intake_settings, report["id"])
    assert comment["type"] == "report.comment_added.v1"
    assert comment["comment"] == COMMENT
    assert comment["comment_id"] == update_id
    # Still there, says the poster; the rating is the neutral one (none was given).
    assert (comment["fixed"], comment["rating"]) == (False, 3)
    # The poster's contact is not passed on, nor shown.
    assert "jan.kowalski" not in json.dumps(comment)
    shown = await intake.get(f"/v1/reports/{report['id']}")
    assert shown.json()["status"] == "submitted"
    assert COMMENT not in shown.text
    feed = await intake.get(f"{V2}/servicerequestupdates.{fmt}")
    assert COMMENT not in feed.text
    assert update_id not in feed.text


async def test_fixed_or_closed_says_the_problem_is_gone(intake, intake_settings):
    report = await filed(intake)
    for update_id, status in (("1", "FIXED"), ("2", "closed"), ("3", "UNCHANGED")):
        response = await intake.post(
            f"{V2}/servicerequestupdates.json",
            data=update_form(report, update_id=update_id, status=status),
        )
        assert response.status_code == 200, response.text
    comments = (await events_of(intake_settings, report["id"]))[1:]
    assert [c["fixed"] for c in comments] == [True, True, False]


async def test_the_same_update_again_is_answered_alike_and_sent_once(
    intake, intake_settings, fmt
):
    report = await filed(intake)
    first = update_id_of(
        await intake.post(
            f"{V2}/servicerequestupdates.{fmt}", data=update_form(report)
        ),
        fmt,
    )
    # The contact fields may differ in a retry: what the update says is the same.
    again = update_id_of(
        await intake.post(
            f"{V2}/servicerequestupdates.{fmt}",
            data=update_form(report, email="", first_name=""),
        ),
        fmt,
    )
    assert again == first
    assert len(await events_of(intake_settings, report["id"])) == 2

    other = await intake.post(
        f"{V2}/servicerequestupdates.{fmt}",
        data=update_form(report, description="Something else entirely"),
        headers={"Accept-Language": "en"},
    )
    assert other.status_code == 400
    code, description = error_of(other, fmt)
    assert code == 400
    assert "8812" in description
    assert "another update" in description
    assert len(await events_of(intake_settings, report["id"])) == 2

    # Another client's update ids are its own.
    theirs = await intake.post(
        f"{V2}/servicerequestupdates.{fmt}",
        data=update_form(report, api_key=OTHER_KEY),
    )
    assert update_id_of(theirs, fmt) != first
    assert len(await events_of(intake_settings, report["id"])) == 3


async def test_open_on_a_resolved_request_reopens_it(intake, intake_settings, fmt):
    report = await filed(intake, ReportStatus.RESOLVED)
    response = await intake.post(
        f"{V2}/servicerequestupdates.{fmt}", data=update_form(report)
    )
    update_id = update_id_of(response, fmt)
    *_, reopen = await events_of(intake_settings, report["id"])
    assert reopen["type"] == "report.reopen_requested.v1"
    assert (reopen["reopen_id"], reopen["comment"]) == (update_id, COMMENT)
    assert (reopen["rating"], reopen["after_sequence"]) == (3, 2)

    # Open again at once, for residents and Open311 clients; the words are the unit's.
    shown = (await intake.get(f"/v1/reports/{report['id']}")).json()
    assert shown["status"] == "reopened"
    assert COMMENT not in json.dumps(shown)
    record = await intake.get(f"{V2}/requests/{report['number']}.json")
    assert as_json(record)[0]["status"] == "open"
    feed = as_json(await intake.get(f"{V2}/servicerequestupdates.json"))
    mine = [u for u in feed if u["service_request_id"] == report["number"]]
    assert mine[-1]["status"] == "reopen"
    assert mine[-1]["description"] == ""

    # A change the adapter sent before it took the reopen does not undo it.
    body, headers = status_event(report["id"], ReportStatus.RESOLVED, 3)
    await intake.post("/internal/events", content=body, headers=headers)
    shown = (await intake.get(f"/v1/reports/{report['id']}")).json()
    assert shown["status"] == "reopened"

    # Sent again: the same answer, nothing more; reopened already, a new OPEN comments.
    again = await intake.post(
        f"{V2}/servicerequestupdates.{fmt}", data=update_form(report)
    )
    assert update_id_of(again, fmt) == update_id
    later = await intake.post(
        f"{V2}/servicerequestupdates.{fmt}", data=update_form(report, update_id="8813")
    )
    assert later.status_code == 200
    types = [e["type"] for e in await events_of(intake_settings, report["id"])]
    assert types[-2:] == ["report.reopen_requested.v1", "report.comment_added.v1"]


async def test_a_rejected_request_is_not_reopened_but_the_unit_hears(
    intake, intake_settings
):
    report = await filed(intake, ReportStatus.REJECTED)
    response = await intake.post(
        f"{V2}/servicerequestupdates.xml", data=update_form(report, status="REOPEN")
    )
    assert response.status_code == 200
    *_, comment = await events_of(intake_settings, report["id"])
    assert comment["type"] == "report.comment_added.v1"
    assert comment["fixed"] is False
    shown = (await intake.get(f"/v1/reports/{report['id']}")).json()
    assert shown["status"] == "rejected"


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"service_request_id": "WRO-2026-999999"}, 404, "WRO-2026-999999"),
        ({"jurisdiction_id": "elsewhere.example"}, 404, "wroclaw.pl"),
        ({"update_id": ""}, 400, "update_id: required."),
        ({"update_id": "x" * 101}, 400, "update_id: at most 100 characters."),
        ({"status": "MAYBE"}, 400, "status: one of OPEN, CLOSED"),
        ({"description": " "}, 400, "description: required."),
        ({"description": "x" * 2001}, 400, "description: at most 2000 characters."),
        ({"updated_datetime": ""}, 400, "updated_datetime: required."),
        ({"updated_datetime": "yesterday"}, 400, "updated_datetime: a W3C date-time"),
        ({"description": "zero\x00byte"}, 400, "description: the text must not"),
    ],
)
async def test_bad_updates_are_open311_errors_and_change_nothing(
    intake, intake_settings, fmt, changes, status, words
):
    report = await filed(intake, ReportStatus.RESOLVED)
    response = await intake.post(
        f"{V2}/servicerequestupdates.{fmt}",
        data=update_form(report, **changes),
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == status, response.text
    code, description = error_of(response, fmt)
    assert code == status
    assert words in description
    assert len(await events_of(intake_settings, report["id"])) == 1
    shown = (await intake.get(f"/v1/reports/{report['id']}")).json()
    assert shown["status"] == "resolved"


async def test_errors_speak_the_clients_language(intake):
    report = await filed(intake)
    response = await intake.post(
        f"{V2}/servicerequestupdates.xml",
        data=update_form(report, status="MAYBE"),
        headers={"Accept-Language": "de"},
    )
    assert response.status_code == 400
    assert "status: einer der Werte" in error_of(response, "xml")[1]


async def test_the_document_describes_posting_updates(intake):
    spec = (await intake.get("/openapi/open311.json")).json()
    operation = spec["paths"][f"{V2}/servicerequestupdates.{{fmt}}"]["post"]
    assert operation["summary"]
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert "update_id" in form["schema"]["required"]
    assert form["example"]["status"] == "OPEN"
