"""The city's web apps on other origins call the APIs from browsers (CORS), and only they."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crm_adapter.app import create_app as create_adapter
from crm_adapter.config import Settings as AdapterSettings
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings
from shared.cors import origin
from tests.helpers import READ, own_secrets, serve

CITY_APP = "https://zglos.wroclaw.example"
OTHER = "https://elsewhere.example"


def cors_headers(response) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name.startswith("access-control-")
    }


def vary(response) -> list[str]:
    return [token.strip() for token in response.headers.get("vary", "").split(",")]


@pytest.fixture
async def intake(intake_settings):
    app = create_intake(intake_settings.model_copy(update={"cors_origins": [CITY_APP]}))
    async for client in serve(app):
        yield client


@pytest.fixture
async def adapter(adapter_settings):
    app = create_adapter(
        adapter_settings.model_copy(update={"cors_origins": [CITY_APP]})
    )
    async for client in serve(app):
        yield client


def preflight(origin: str, method: str, headers: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


class TestPreflight:
    async def test_an_allowed_origin_may_send_what_the_api_reads(self, intake):
        asked = (
            "authorization, content-type, accept-language, idempotency-key, "
            "x-device-id, x-request-id, traceparent"
        )
        response = await intake.options(
            "/v1/reports", headers=preflight(CITY_APP, "POST", asked)
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == CITY_APP
        methods = response.headers["access-control-allow-methods"].split(", ")
        assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= set(methods)
        allowed = response.headers["access-control-allow-headers"].lower().split(", ")
        assert set(asked.split(", ")) <= set(allowed)
        assert {"if-match", "if-none-match"} <= set(allowed)
        assert "Origin" in vary(response)

    async def test_another_origin_gets_no_cors_header(self, intake):
        response = await intake.options(
            "/v1/reports",
            headers={
                **preflight(OTHER, "POST", "authorization"),
                "Accept-Language": "en",
            },
        )
        assert cors_headers(response) == {}
        # Answered as any OPTIONS request: a localized problem, not a bare 400.
        assert response.status_code == 405
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Method not allowed"

    async def test_a_header_the_api_does_not_read_is_not_allowed(self, intake):
        response = await intake.options(
            "/v1/reports", headers=preflight(CITY_APP, "POST", "x-secret-sauce")
        )
        assert cors_headers(response) == {}
        assert response.status_code == 405

    async def test_operators_key_from_the_adapter(self, adapter):
        response = await adapter.options(
            "/admin/cases", headers=preflight(CITY_APP, "GET", "x-api-key")
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == CITY_APP


class TestSimpleRequests:
    async def test_an_allowed_origin_reads_the_answer_and_its_headers(self, intake):
        response = await intake.get("/v1/categories", headers={"Origin": CITY_APP})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == CITY_APP
        exposed = response.headers["access-control-expose-headers"].split(", ")
        assert {
            "ETag",
            "Retry-After",
            "Content-Language",
            "X-Request-ID",
            "Location",
        } <= set(exposed)
        assert "access-control-allow-credentials" not in response.headers
        # The language's Vary is kept beside the origin's.
        assert {"Accept-Language", "Origin"} <= set(vary(response))

    async def test_an_error_reaches_the_allowed_origin_too(self, adapter):
        response = await adapter.get("/admin/cases", headers={"Origin": CITY_APP})
        assert response.status_code == 401
        assert response.headers["access-control-allow-origin"] == CITY_APP
        ok = await adapter.get("/admin/cases", headers={"Origin": CITY_APP, **READ})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == CITY_APP

    async def test_another_origin_gets_no_cors_header(self, intake):
        response = await intake.get("/v1/categories", headers={"Origin": OTHER})
        assert response.status_code == 200
        assert cors_headers(response) == {}
        # A cache must not give it the answer an allowed origin got.
        assert "Origin" in vary(response)


class TestByDefault:
    @pytest.mark.parametrize("settings", [IntakeSettings, AdapterSettings])
    def test_no_origin_is_allowed(self, settings):
        assert settings().cors_origins == []

    async def test_no_cors_headers_at_all(self, intake_app):
        async for client in serve(intake_app):
            preflight_response = await client.options(
                "/v1/reports", headers=preflight(CITY_APP, "POST", "authorization")
            )
            assert preflight_response.status_code == 405
            assert cors_headers(preflight_response) == {}
            response = await client.get("/v1/categories", headers={"Origin": CITY_APP})
            assert cors_headers(response) == {}
            assert "Origin" not in vary(response)


class TestOriginSetting:
    @pytest.mark.parametrize(
        ("given", "read"),
        [
            ("https://app.example.org", "https://app.example.org"),
            ("HTTPS://App.Example.ORG:443", "https://app.example.org"),
            ("http://localhost:5173", "http://localhost:5173"),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("capacitor://localhost", "capacitor://localhost"),
            ("*", "*"),
        ],
    )
    def test_origins_are_read_as_browsers_send_them(self, given, read):
        assert origin(given) == read

    @pytest.mark.parametrize(
        "given",
        [
            "https://app.example.org/",
            "https://app.example.org/report",
            "https://app.example.org?x=1",
            "https://app.example.org#top",
            "https://user@app.example.org",
            "https://app.example.org:99999",
            "app.example.org",
            "*.example.org",
            "https://",
            "",
        ],
    )
    def test_anything_but_an_origin_is_refused(self, given):
        with pytest.raises(ValueError, match="not an origin"):
            origin(given)

    @pytest.mark.parametrize(
        ("settings", "name"),
        [
            (IntakeSettings, "INTAKE_CORS_ORIGINS"),
            (AdapterSettings, "ADAPTER_CORS_ORIGINS"),
        ],
    )
    def test_read_from_the_environment_as_a_list(self, settings, name, monkeypatch):
        monkeypatch.setenv(name, "https://a.example, http://localhost:5173")
        assert settings().cors_origins == ["https://a.example", "http://localhost:5173"]
        monkeypatch.setenv(name, '["https://b.example"]')
        assert settings().cors_origins == ["https://b.example"]
        monkeypatch.setenv(name, "https://a.example/app")
        with pytest.raises(ValidationError, match="not an origin"):
            settings()

    @pytest.mark.usefixtures("production_password_hashing")
    @pytest.mark.parametrize("settings", [IntakeSettings, AdapterSettings])
    def test_any_origin_is_refused_in_production(self, settings):
        chosen = own_secrets(settings)
        assert settings(environment="development", cors_origins=["*"]).cors_origins == [
            "*"
        ]
        with pytest.raises(ValidationError, match="any origin"):
            settings(environment="production", cors_origins=["*"], **chosen)
        named = settings(environment="production", cors_origins=[CITY_APP], **chosen)
        assert named.cors_origins == [CITY_APP]
