"""The Open311 connector against the simulator's Open311 side, in XML and in JSON."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from crm_adapter.crm.connector import CaseDraft, CrmRejected, CrmUnavailable
from crm_adapter.crm.mapping import status_map
from crm_adapter.crm.models import Open311Token
from devtools.crm_simulator.app import CaseStatus
from shared.settings import DEV_SECRETS
from shared.signing import UrlSigner, photo_link_path
from tests.crm_adapter.fake_crm import Answer, LoseResponses
from tests.crm_adapter.helpers import open311_connector

FORMATS = ["xml", "json"]
PHOTO = "7d7f0b5e-1c2a-4b8e-9f00-0a1b2c3d4e5f"


def draft(**changes) -> CaseDraft:
    values: dict = {
        "external_ref": uuid.uuid4(),
        "number": "WRO-2026-000042",
        "category": "street_light_out",
        "unit": "czk",
        "description": "Latarnia nie świeci",
        "attributes": {"lamp_post_number": "L-1234", "blinking": True},
        "lat": 51.1097,
        "lon": 17.0326,
        "reported_at": dt.datetime.now(dt.UTC),
        "reporter": {"name": "Anna Nowak", "email": "anna@example.org", "lang": "pl"},
        "photo_ids": [PHOTO],
    }
    return CaseDraft(**(values | changes))


@pytest.fixture
def sim(crm_simulator_app) -> httpx.AsyncBaseTransport:
    return httpx.ASGITransport(app=crm_simulator_app)


async def cases_of(crm_simulator, ref) -> list[dict]:
    response = await crm_simulator.get("/api/cases", params={"external_ref": str(ref)})
    cases: list[dict] = response.json()
    return cases


def test_every_simulator_code_and_extended_status_is_mapped():
    mapping = status_map("open311")
    assert {s.value for s in CaseStatus} <= set(mapping)
    assert {
        "open",
        "closed",
        "fixed",
        "in_progress",
        "action_scheduled",
        "duplicate",
        "not_councils_responsibility",
        "no_further_action",
        "reopen",
    } <= set(mapping)


@pytest.mark.parametrize("fmt", FORMATS)
class TestCreateCase:
    async def test_a_realtime_service_answers_the_request_id(
        self, crm_simulator, sim, sessionmaker, fmt
    ):
        case_draft = draft()
        created = await open311_connector(sessionmaker, sim, fmt).create_case(
            case_draft
        )
        assert created.status == "open"

        [case] = await cases_of(crm_simulator, case_draft.external_ref)
        assert case["case_id"] == created.case_id
        assert (case["category"], case["channel"]) == ("street_light_out", "open311")
        assert case["description"] == "Latarnia nie świeci"
        assert case["attributes"] == {"lamp_post_number": "L-1234", "blinking": "true"}
        assert case["location"] == {"lat": 51.1097, "lon": 17.0326}
        assert case["reporter"] == {"name": "Anna Nowak", "email": "anna@example.org"}
        [link] = case["photos"]
        parts = urlsplit(link)
        assert (parts.netloc, parts.path) == ("intake.example", photo_link_path(PHOTO))
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert UrlSigner([DEV_SECRETS["photo_urls"]]).verify(
            parts.path, expires=int(query["expires"]), signature=query["signature"]
        )

    async def test_an_anonymous_report_sends_no_contact_and_a_mapped_service_code(
        self, crm_simulator, sim, sessionmaker, fmt
    ):
        case_draft = draft(reporter=None, photo_ids=[])
        open311 = open311_connector(
            sessionmaker, sim, fmt, service_codes={"street_light_out": "SL-01"}
        )
        await open311.create_case(case_draft)
        [case] = await cases_of(crm_simulator, case_draft.external_ref)
        assert (case["category"], case["reporter"], case["photos"]) == (
            "SL-01",
            None,
            [],
        )

    async def test_a_batch_service_token_is_followed_to_the_request(
        self, crm_simulator, sim, sessionmaker, adapter_session, fmt
    ):
        await crm_simulator.put(
            "/open311/simulator", json={"batch": True, "token_delay_seconds": 0}
        )
        case_draft = draft()
        created = await open311_connector(sessionmaker, sim, fmt).create_case(
            case_draft
        )
        [case] = await cases_of(crm_simulator, case_draft.external_ref)
        assert case["case_id"] == created.case_id
        assert (await adapter_session.scalar(select(Open311Token))) is None

    async def test_an_unresolved_token_is_asked_again_never_sent_again(
        self, crm_simulator, sim, sessionmaker, fmt
    ):
        await crm_simulator.put(
            "/open311/simulator", json={"batch": True, "token_delay_seconds": None}
        )
        case_draft = draft()
        open311 = open311_connector(sessionmaker, sim, fmt)
        with pytest.raises(CrmUnavailable, match="not resolved"):
            await open311.create_case(case_draft)
        # The next attempt (by a new process, too) asks for the token instead.
        again = open311_connector(sessionmaker, sim, fmt)
        with pytest.raises(CrmUnavailable, match="not resolved"):
            await again.find_case(case_draft.external_ref)
        with pytest.raises(CrmUnavailable, match="not resolved"):
            await again.create_case(case_draft)
        assert await cases_of(crm_simulator, case_draft.external_ref) == []

        released = await crm_simulator.post("/open311/simulator/tokens/release")
        assert released.json() == {"released": 1}
        found = await again.find_case(case_draft.external_ref)
        assert found is not None
        [case] = await cases_of(crm_simulator, case_draft.external_ref)
        assert case["case_id"] == found.case_id
        # Resolved, the token is forgotten: the look-up goes by our id from now on.
        by_id = await again.find_case(case_draft.external_ref)
        assert by_id is not None
        assert by_id.case_id == found.case_id


@pytest.mark.parametrize("fmt", FORMATS)
class TestFindCase:
    async def test_a_lost_answer_is_found_by_our_report_id(
        self, crm_simulator, crm_simulator_app, sessionmaker, fmt
    ):
        lossy = LoseResponses(httpx.ASGITransport(app=crm_simulator_app), lose=1)
        open311 = open311_connector(sessionmaker, lossy, fmt)
        case_draft = draft()
        with pytest.raises(CrmUnavailable):
            await open311.create_case(case_draft)  # made there; the answer never came
        found = await open311.find_case(case_draft.external_ref)
        [case] = await cases_of(crm_simulator, case_draft.external_ref)
        assert found is not None
        assert (found.case_id, found.status) == (case["case_id"], "NEW")

    async def test_a_report_never_sent_is_not_found(
        self, crm_simulator, sim, sessionmaker, fmt
    ):
        await open311_connector(sessionmaker, sim, fmt).create_case(draft())
        assert (
            await open311_connector(sessionmaker, sim, fmt).find_case(uuid.uuid4())
            is None
        )


@pytest.mark.parametrize("fmt", FORMATS)
class TestUpdates:
    async def test_a_reopen_reaches_the_case_once(
        self, crm_simulator, sim, sessionmaker, fmt
    ):
        open311 = open311_connector(sessionmaker, sim, fmt)
        created = await open311.create_case(draft())
        await crm_simulator.post(
            f"/api/cases/{created.case_id}/status", json={"status": "DONE"}
        )
        reopen_id = uuid.uuid4()
        for _ in range(2):
            await open311.reopen(
                created.case_id, comment="Nadal ciemno", request_id=reopen_id
            )
        case = (await crm_simulator.get(f"/api/cases/{created.case_id}")).json()
        assert case["status"] == "REOPENED"
        assert [(h["status"], h["note"]) for h in case["history"]] == [
            ("NEW", None),
            ("DONE", None),
            ("REOPENED", "Nadal ciemno"),
        ]

    async def test_a_comment_is_added_once_without_a_change(
        self, crm_simulator, sim, sessionmaker, fmt
    ):
        open311 = open311_connector(sessionmaker, sim, fmt)
        created = await open311.create_case(draft())
        await crm_simulator.post(
            f"/api/cases/{created.case_id}/status", json={"status": "CANNOT_FIX"}
        )
        comment_id = uuid.uuid4()
        for _ in range(2):
            await open311.add_comment(
                created.case_id, comment="A jednak świeci słabo", request_id=comment_id
            )
        case = (await crm_simulator.get(f"/api/cases/{created.case_id}")).json()
        assert case["status"] == "CANNOT_FIX"
        assert [c["comment"] for c in case["comments"]] == ["A jednak świeci słabo"]

    async def test_an_update_of_an_unknown_request_is_refused(
        self, crm_simulator, sim, sessionmaker, fmt
    ):
        with pytest.raises(CrmRejected, match="CRM-999999 not found"):
            await open311_connector(sessionmaker, sim, fmt).reopen(
                "CRM-999999", comment=None, request_id=uuid.uuid4()
            )

    async def test_erasing_the_contact_is_refused_for_an_operator(
        self, sim, sessionmaker, fmt
    ):
        with pytest.raises(CrmRejected, match="by hand"):
            await open311_connector(sessionmaker, sim, fmt).erase_contact(
                "CRM-000001", request_id=uuid.uuid4()
            )


@pytest.mark.parametrize("fmt", FORMATS)
class TestErrors:
    async def test_an_unknown_service_code_is_refused_with_the_crms_words(
        self, crm_simulator, sim, sessionmaker, fmt
    ):
        open311 = open311_connector(
            sessionmaker, sim, fmt, service_codes={"pothole": "no such"}
        )
        with pytest.raises(CrmRejected) as refused:
            await open311.create_case(draft(category="pothole"))
        assert "HTTP 404" in str(refused.value)
        assert "service_code no such not found" in str(refused.value)

    async def test_a_wrong_key_is_retried_until_it_is_fixed(
        self, crm_simulator, sim, sessionmaker, fmt
    ):
        open311 = open311_connector(sessionmaker, sim, fmt, api_key="not-the-key")
        with pytest.raises(CrmUnavailable, match="403.*wrong api_key"):
            await open311.create_case(draft())

    @pytest.mark.parametrize("status", [429, 503])
    async def test_an_overloaded_crm_is_retried_after_its_retry_after(
        self, sessionmaker, fmt, status
    ):
        class Busy(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request):
                return httpx.Response(status, headers={"retry-after": "120"})

        with pytest.raises(CrmUnavailable) as unavailable:
            await open311_connector(sessionmaker, Busy(), fmt).create_case(draft())
        assert unavailable.value.retry_after == 120

    async def test_an_unreadable_answer_leaves_it_open_so_it_is_retried(
        self, sessionmaker, fmt
    ):
        with pytest.raises(CrmUnavailable, match="unexpected answer"):
            await open311_connector(sessionmaker, Answer(200), fmt).create_case(draft())

    async def test_an_xml_bomb_is_not_expanded(self, sessionmaker, fmt):
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<service_requests><request><service_request_id>&b;"
            b"</service_request_id></request></service_requests>"
        )

        class Bomb(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request):
                return httpx.Response(200, content=bomb)

        with pytest.raises(CrmUnavailable, match="unexpected answer"):
            await open311_connector(sessionmaker, Bomb(), "xml").create_case(draft())
