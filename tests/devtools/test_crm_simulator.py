"""The simulated CRM's reopen and comments, as the adapter's connector uses them."""

import pytest

from devtools.crm_simulator.app import create_app
from devtools.crm_simulator.config import Settings

CASE = {
    "external_ref": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
    "title": "WRO-2026-000042",
    "category": "pothole",
    "unit": "zdium",
    "location": {"lat": 51.1097, "lon": 17.0326},
}


@pytest.fixture
def crm_simulator_app():
    # Webhooks to a port nobody listens on: these tests read the deliveries, not their effect.
    return create_app(
        Settings(webhook_url="http://127.0.0.1:9/webhooks/crm", webhook_attempts=1)
    )


@pytest.fixture
async def case_id(crm_simulator) -> str:
    created = await crm_simulator.post("/api/cases", json=CASE)
    assert created.status_code == 201
    done = await crm_simulator.post(
        f"/api/cases/{created.json()['case_id']}/status", json={"status": "DONE"}
    )
    assert done.status_code == 200
    return str(created.json()["case_id"])


class TestReopen:
    async def test_reopens_with_the_comment_once_per_key(self, crm_simulator, case_id):
        url = f"/api/cases/{case_id}/reopen"
        headers = {"Idempotency-Key": "reopen-1"}
        for _ in range(2):
            response = await crm_simulator.post(
                url, json={"comment": "Nadal jest dziura"}, headers=headers
            )
            assert response.status_code == 200
        case = response.json()
        assert (case["status"], case["version"]) == ("REOPENED", 3)
        assert [(h["status"], h["note"]) for h in case["history"]] == [
            ("NEW", None),
            ("DONE", None),
            ("REOPENED", "Nadal jest dziura"),
        ]
        deliveries = (await crm_simulator.get("/api/webhooks")).json()
        assert [d["status"] for d in deliveries] == ["DONE", "REOPENED"]

    async def test_an_unknown_case_is_a_404_and_a_missing_key_a_401(
        self, crm_simulator, case_id
    ):
        missing = await crm_simulator.post("/api/cases/CRM-999999/reopen", json={})
        assert missing.status_code == 404
        anonymous = await crm_simulator.post(
            f"/api/cases/{case_id}/reopen", json={}, headers={"Authorization": ""}
        )
        assert anonymous.status_code == 401


class TestComments:
    async def test_a_comment_changes_no_status_and_counts_once_per_key(
        self, crm_simulator, case_id
    ):
        url = f"/api/cases/{case_id}/comments"
        for _ in range(2):
            response = await crm_simulator.post(
                url, json={"comment": "Nadal stoi"}, headers={"Idempotency-Key": "c-1"}
            )
            assert response.status_code == 200
        case = response.json()
        assert [c["comment"] for c in case["comments"]] == ["Nadal stoi"]
        assert (case["status"], case["version"]) == ("DONE", 2)
        assert len((await crm_simulator.get("/api/webhooks")).json()) == 1

    async def test_an_empty_comment_is_refused(self, crm_simulator, case_id):
        response = await crm_simulator.post(
            f"/api/cases/{case_id}/comments", json={"comment": ""}
        )
        assert response.status_code == 422


class TestCreate:
    async def test_json_numbers_and_texts_are_taken(self, crm_simulator):
        response = await crm_simulator.post(
            "/api/cases",
            json=CASE
            | {
                "location": {"lat": 51, "lon": 17.0326},
                "reported_at": "2026-11-28T08:00:00Z",
            },
        )
        assert response.status_code == 201, response.text
        assert response.json()["location"] == {"lat": 51.0, "lon": 17.0326}

    @pytest.mark.parametrize(
        "wrong",
        [
            {"location": {"lat": "51.1", "lon": 17.0}},
            {"location": {"lat": 51.1, "lon": True}},
            {"reported_at": 1796000000},
        ],
    )
    async def test_values_of_the_wrong_json_type_are_refused(
        self, crm_simulator, wrong
    ):
        response = await crm_simulator.post("/api/cases", json=CASE | wrong)
        assert response.status_code == 422, response.text
        assert (await crm_simulator.get("/api/cases")).json() == []
