"""A phone on a bad network that retries never files a report twice."""

import asyncio
import re
import uuid

import pytest
from sqlalchemy import func, select

from intake_service.db import OutboxEvent
from intake_service.reports.models import Report
from tests.helpers import POTHOLE, register_and_sign_in


async def count(session, model) -> int:
    await session.rollback()  # a fresh look, not an old snapshot
    return (await session.scalar(select(func.count()).select_from(model))) or 0


class TestIdempotencyKey:
    async def test_a_retry_gets_the_first_answer_and_creates_nothing(
        self, intake, intake_session
    ):
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await intake.post("/v1/reports", json=POTHOLE, headers=key)
        again = await intake.post("/v1/reports", json=POTHOLE, headers=key)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert "idempotent-replayed" not in first.headers
        assert again.headers["idempotent-replayed"] == "true"
        assert await count(intake_session, Report) == 1
        assert await count(intake_session, OutboxEvent) == 1

    async def test_the_key_may_be_an_rfc_8941_string(self, intake, intake_session):
        key = str(uuid.uuid4())
        first = await intake.post(
            "/v1/reports", json=POTHOLE, headers={"Idempotency-Key": key}
        )
        again = await intake.post(
            "/v1/reports", json=POTHOLE, headers={"Idempotency-Key": f'"{key}"'}
        )
        assert again.json()["id"] == first.json()["id"]

    async def test_the_same_key_with_another_body_is_a_422(
        self, intake, intake_session
    ):
        key = {"Idempotency-Key": str(uuid.uuid4()), "Accept-Language": "en"}
        await intake.post("/v1/reports", json=POTHOLE, headers=key)
        other = await intake.post(
            "/v1/reports", json=POTHOLE | {"description": "Inna dziura"}, headers=key
        )
        assert other.status_code == 422
        assert other.json()["type"] == "urn:mam:problem:idempotency-key-reused"
        assert await count(intake_session, Report) == 1

    async def test_a_refused_request_stores_nothing_so_the_corrected_retry_works(
        self, intake
    ):
        key = {"Idempotency-Key": str(uuid.uuid4())}
        refused = await intake.post(
            "/v1/reports", json=POTHOLE | {"category": "nope"}, headers=key
        )
        assert refused.status_code == 422
        corrected = await intake.post("/v1/reports", json=POTHOLE, headers=key)
        assert corrected.status_code == 201
        assert "idempotent-replayed" not in corrected.headers

    @pytest.mark.parametrize(
        "key", ["", "has space", "a/b", "x" * 256, "photo-retry-1", "x" * 15]
    )
    async def test_a_malformed_key_is_a_400(self, intake, intake_session, key):
        response = await intake.post(
            "/v1/reports", json=POTHOLE, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 400
        assert response.json()["type"] == "urn:mam:problem:invalid-idempotency-key"
        assert await count(intake_session, Report) == 0

    @pytest.mark.parametrize("path", ["/v1/reports", "/open311/v2/requests.{fmt}"])
    async def test_the_document_gives_the_form_of_a_key(self, intake, path):
        """A client that follows the header's schema never gets the 400."""
        spec = (await intake.get("/openapi.json")).json()
        [pattern] = [
            parameter["schema"]["pattern"]
            for parameter in spec["paths"][path]["post"]["parameters"]
            if parameter["name"] == "idempotency-key"
        ]
        token = uuid.uuid4().hex
        keys = [token, f'"{uuid.uuid4()}"', "k" * 255, "", "x" * 15, "x" * 256]
        keys += ["has space", "a/b", f'"{token}', f"{token}'"]
        for key in keys:
            response = await intake.post(
                "/v1/reports", json=POTHOLE, headers={"Idempotency-Key": key}
            )
            taken = response.status_code == 201
            assert taken != (response.status_code == 400), response.text
            assert bool(re.search(pattern, key)) == taken, key

    async def test_keys_of_different_residents_never_meet(self, intake, intake_session):
        key = str(uuid.uuid4())
        anna = await register_and_sign_in(intake, "anna-idem@example.org")
        jan = await register_and_sign_in(intake, "jan-idem@example.org")
        first = await intake.post(
            "/v1/reports", json=POTHOLE, headers=anna | {"Idempotency-Key": key}
        )
        second = await intake.post(
            "/v1/reports", json=POTHOLE, headers=jan | {"Idempotency-Key": key}
        )
        assert first.json()["id"] != second.json()["id"]
        assert await count(intake_session, Report) == 2

    async def test_concurrent_duplicates_file_one_report(self, intake, intake_session):
        key = {"Idempotency-Key": str(uuid.uuid4())}
        answers = await asyncio.gather(
            *(intake.post("/v1/reports", json=POTHOLE, headers=key) for _ in range(5))
        )
        created = [a for a in answers if a.status_code == 201]
        assert all(a.status_code in (201, 409) for a in answers)
        assert len({a.json()["id"] for a in created}) == 1
        assert await count(intake_session, Report) == 1
