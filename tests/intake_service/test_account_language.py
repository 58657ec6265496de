"""A signed-in resident is answered in their account's language unless the request asks for
another (`?lang=`, `Accept-Language`)."""

from __future__ import annotations

import uuid

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from intake_service.accounts.dependencies import get_optional_account
from intake_service.app import create_app
from intake_service.config import Settings
from intake_service.deps import get_language
from tests.helpers import POTHOLE, register_and_sign_in


async def pothole_name(intake, **kwargs) -> str:
    response = await intake.get("/v1/categories", **kwargs)
    assert response.status_code == 200, response.text
    return next(c["name"] for c in response.json() if c["code"] == "pothole")


class TestTheAccountsLanguage:
    async def test_is_the_default_for_a_signed_in_resident(self, intake):
        german = await register_and_sign_in(intake, "anna@example.org", lang="de")
        response = await intake.get("/v1/categories", headers=german)
        assert response.headers["Content-Language"] == "de"
        assert await pothole_name(intake, headers=german) == "Schlagloch"
        # Anonymous callers keep the city's default.
        assert await pothole_name(intake) == "Dziura w jezdni"

    async def test_gives_way_to_what_the_request_asks_for(self, intake):
        german = await register_and_sign_in(intake, "jan@example.org", lang="de")
        english = {**german, "Accept-Language": "en-GB,en;q=0.8"}
        assert await pothole_name(intake, headers=english) == "Pothole"
        chosen = await pothole_name(intake, headers=english, params={"lang": "pl"})
        assert chosen == "Dziura w jezdni"
        # A language the city does not answer in falls back to the account's.
        french = {**german, "Accept-Language": "fr-FR"}
        assert await pothole_name(intake, headers=french) == "Schlagloch"

    async def test_errors_of_a_signed_in_resident_are_in_it(self, intake):
        english = await register_and_sign_in(intake, "eve@example.org", lang="en")
        missing = await intake.get(f"/v1/reports/{uuid.uuid4()}", headers=english)
        assert missing.status_code == 404
        assert missing.headers["Content-Language"] == "en"
        assert missing.json()["title"] == "Report not found"
        refused = await intake.post(
            "/v1/reports", json={**POTHOLE, "category": "nope"}, headers=english
        )
        assert refused.status_code == 422
        assert refused.headers["Content-Language"] == "en"

    async def test_a_token_that_is_not_valid_changes_nothing_on_public_reads(
        self, intake
    ):
        stale = {"Authorization": "Bearer not-a-token"}
        response = await intake.get("/v1/categories", headers=stale)
        assert response.status_code == 200
        assert await pothole_name(intake, headers=stale) == "Dziura w jezdni"


def _resolved(dependant: Dependant) -> list[object]:
    """The dependencies of an operation in the order they are resolved."""
    calls: list[object] = []
    for dependency in dependant.dependencies:
        calls.extend(_resolved(dependency))
        calls.append(dependency.call)
    return calls


def test_the_account_is_known_before_the_language_is_chosen():
    """An operation taking both looks its token up once: the account's dependency notes
    the language it found, and the language's reads it (else it would look it up too)."""
    app = create_app(Settings())
    both = 0
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        calls = _resolved(route.dependant)
        accounts = [calls.index(c) for c in (get_optional_account,) if c in calls]
        if accounts and get_language in calls:
            both += 1
            assert accounts[0] < calls.index(get_language), route.path
    assert both, "no operation takes both: this checks nothing"
