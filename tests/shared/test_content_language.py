"""Answers say the language their texts are in (`Content-Language`) and that it follows
`Accept-Language` (`Vary`); answers with no texts claim none."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.content_language import ContentLanguageMiddleware
from shared.i18n import negotiate
from tests.helpers import POTHOLE, READ
from tests.images import RED, encode, with_corner
from tests.intake_service.helpers import multipart


def vary(response: httpx.Response) -> list[str]:
    return [token.strip() for token in response.headers.get("vary", "").split(",")]


def says(response: httpx.Response, lang: str) -> None:
    assert response.headers["content-language"] == lang
    assert vary(response).count("Accept-Language") == 1


def claims_none(response: httpx.Response) -> None:
    assert "content-language" not in response.headers
    assert "Accept-Language" not in vary(response)


TITLES = {
    "pl": "Nie ma takiego zgłoszenia",
    "en": "Report not found",
    "de": "Meldung nicht gefunden",
}


class TestErrors:
    @pytest.mark.parametrize("lang", ["pl", "en", "de"])
    async def test_a_problem_is_in_the_language_asked_for(self, intake, lang):
        response = await intake.get(
            f"/v1/reports/{uuid.uuid4()}",
            headers={"Accept-Language": f"{lang};q=0.9, fr"},
        )
        assert response.status_code == 404
        assert response.json()["title"] == TITLES[lang]
        says(response, lang)

    async def test_the_lang_parameter_wins(self, intake):
        response = await intake.get(
            f"/v1/reports/{uuid.uuid4()}",
            params={"lang": "en"},
            headers={"Accept-Language": "de"},
        )
        assert response.json()["title"] == TITLES["en"]
        says(response, "en")

    async def test_polish_when_nothing_is_asked_for(self, intake):
        response = await intake.get(f"/v1/reports/{uuid.uuid4()}")
        assert response.json()["title"] == TITLES["pl"]
        says(response, "pl")

    async def test_a_validation_problem_of_the_adapter(self, adapter):
        response = await adapter.get(
            "/admin/cases",
            params={"limit": "many"},
            headers={**READ, "Accept-Language": "de"},
        )
        assert response.status_code == 422
        says(response, "de")


class TestLocalizedAnswers:
    async def test_categories(self, intake):
        response = await intake.get("/v1/categories", headers={"Accept-Language": "de"})
        assert response.status_code == 200
        says(response, "de")

    async def test_a_report_with_its_status_labels(self, intake):
        created = await intake.post("/v1/reports", json=POTHOLE)
        report = await intake.get(
            f"/v1/reports/{created.json()['id']}", params={"lang": "en"}
        )
        assert report.status_code == 200
        says(report, "en")

    async def test_open311_services(self, intake):
        response = await intake.get(
            "/open311/v2/services.json", params={"locale": "de_DE"}
        )
        assert response.status_code == 200
        says(response, "de")


class TestAnswersWithoutTexts:
    async def test_liveness(self, intake, adapter):
        for client in (intake, adapter):
            response = await client.get("/healthz", headers={"Accept-Language": "de"})
            assert response.status_code == 200
            claims_none(response)

    async def test_a_photo_and_its_not_modified(self, intake):
        photo = (
            "bench.jpg",
            encode(with_corner((400, 300), RED), "JPEG"),
            "image/jpeg",
        )
        created = await intake.post("/v1/reports", files=multipart(POTHOLE, photo))
        assert created.status_code == 201, created.text
        url = created.json()["photos"][0]["url"]
        jpeg = await intake.get(url, headers={"Accept-Language": "de"})
        assert jpeg.status_code == 200
        assert jpeg.headers["content-type"] == "image/jpeg"
        claims_none(jpeg)
        again = await intake.get(
            url,
            headers={"Accept-Language": "en", "If-None-Match": jpeg.headers["etag"]},
        )
        assert again.status_code == 304
        assert again.headers["etag"] == jpeg.headers["etag"]
        claims_none(again)


class TestDocumented:
    async def test_answers_with_texts_document_their_language(self, intake):
        spec = (await intake.get("/openapi.json")).json()
        header = {"$ref": "#/components/headers/ContentLanguage"}
        assert spec["components"]["headers"]["ContentLanguage"]["schema"]["enum"] == [
            "pl",
            "en",
            "de",
        ]
        categories = spec["paths"]["/v1/categories"]["get"]["responses"]
        assert categories["200"]["headers"]["Content-Language"] == header
        photo = spec["paths"]["/v1/photos/{photo_id}"]["get"]["responses"]
        assert "Content-Language" not in photo["200"].get("headers", {})
        assert photo["404"]["headers"]["Content-Language"] == header
        health = spec["paths"]["/healthz"]["get"]["responses"]
        assert "Content-Language" not in health["200"].get("headers", {})


async def _answer(request: Request) -> PlainTextResponse:
    lang = negotiate(request.headers.get("accept-language"))
    await request.app.state.barrier.wait()
    headers = {"Vary": "Origin"}
    if "own" in request.query_params:
        headers["Content-Language"] = "en"
    return PlainTextResponse(lang, headers=headers)


async def _bytes(request: Request) -> PlainTextResponse:
    return PlainTextResponse("no texts", headers={"Vary": "Origin"})


def app(parties: int = 1) -> ContentLanguageMiddleware:
    """A route choosing a language (`/text`), one choosing none (`/bytes`); the first
    answers once `parties` requests have chosen theirs."""
    application = Starlette(routes=[Route("/text", _answer), Route("/bytes", _bytes)])
    application.state.barrier = asyncio.Barrier(parties)
    return ContentLanguageMiddleware(application)


def client(application: ContentLanguageMiddleware) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://test"
    )


class TestMiddleware:
    async def test_an_existing_vary_is_kept(self):
        async with client(app()) as http:
            response = await http.get("/text", headers={"Accept-Language": "de"})
        assert response.headers["content-language"] == "de"
        assert response.headers.get_list("vary") == ["Origin, Accept-Language"]

    async def test_an_answer_that_chose_no_language_is_left_alone(self):
        async with client(app()) as http:
            response = await http.get("/bytes", headers={"Accept-Language": "de"})
        assert "content-language" not in response.headers
        assert response.headers["vary"] == "Origin"

    async def test_a_language_the_route_set_is_kept(self):
        async with client(app()) as http:
            response = await http.get(
                "/text", params={"own": "1"}, headers={"Accept-Language": "de"}
            )
        assert response.headers["content-language"] == "en"

    async def test_requests_at_once_each_keep_their_language(self):
        # Every request has chosen its language before any of them answers.
        async with client(app(parties=3)) as http:
            answers = await asyncio.gather(
                *(
                    http.get("/text", headers={"Accept-Language": lang})
                    for lang in ("pl", "en", "de")
                )
            )
        assert [a.headers["content-language"] for a in answers] == ["pl", "en", "de"]
        assert [a.text for a in answers] == ["pl", "en", "de"]
