"""An operation refuses a query parameter it does not take, naming it, rather than ignore it."""

from __future__ import annotations

from tests.helpers import READ


class TestUnknownQueryParameters:
    async def test_a_misspelt_parameter_is_a_422_naming_it(self, intake):
        response = await intake.get(
            "/v1/reports/nearby",
            params={
                "lat": 51.1097,
                "lon": 17.0326,
                "category": "pothole",
                "radius_m": 50,
            },
            headers={"Accept-Language": "de"},
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["type"] == "urn:mam:problem:validation-failed"
        [error] = problem["errors"]
        assert (error["field"], error["in"], error["code"]) == (
            "radius_m",
            "query",
            "unknown_parameter",
        )
        assert error["message"].startswith(
            "Diese Operation hat keinen solchen Parameter"
        )
        assert "category, lang, lat, lon" in error["message"]

    async def test_every_unknown_one_is_named(self, intake):
        response = await intake.get("/v1/categories", params={"x": "1", "y": "2"})
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["x", "y"]

    async def test_lang_is_taken_everywhere(self, intake):
        response = await intake.get("/healthz", params={"lang": "en"})
        assert response.status_code == 200

    async def test_operator_operations_refuse_them_too(self, intake):
        response = await intake.get(
            "/v1/operator/ideas", params={"topics": "city"}, headers=READ
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "topics"

    async def test_nothing_is_done_for_a_refused_write(self, intake):
        sent = await intake.post(
            "/v1/reports",
            params={"dry_run": "true"},
            json={
                "category": "pothole",
                "location": {"lat": 51.1097, "lon": 17.0326},
                "description": "Dziura",
            },
        )
        assert sent.status_code == 422
        listed = await intake.get("/v1/reports")
        assert listed.json()["items"] == []

    async def test_open311_clients_may_send_parameters_of_their_own(self, intake):
        response = await intake.get(
            "/open311/v2/services.json",
            params={"jurisdiction_id": "wroclaw.pl", "client_version": "fms-5"},
        )
        assert response.status_code == 200
        assert any(s["service_code"] == "pothole" for s in response.json())
