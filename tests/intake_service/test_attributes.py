"""Category attributes: declared per category, listed, checked, stored and passed on."""

import json

import pytest
from sqlalchemy import select

from intake_service.db import OutboxEvent
from shared.contracts import Envelope, ReportSubmittedV1
from tests.helpers import POTHOLE

CONTAINER = {
    "category": "overflowing_container",
    "location": {"lat": 51.1079, "lon": 17.0385},
    "description": "Pełny od tygodnia",
}
LAMP = POTHOLE | {"category": "street_light_out"}


class TestCategoryAttributes:
    async def test_are_listed_in_the_language_asked(self, intake):
        categories = (await intake.get("/v1/categories", params={"lang": "de"})).json()
        container = next(c for c in categories if c["code"] == "overflowing_container")
        waste = next(a for a in container["attributes"] if a["code"] == "waste_type")
        assert (waste["name"], waste["datatype"], waste["required"]) == (
            "Abfallart",
            "choice",
            True,
        )
        assert {"code": "paper", "name": "Papier"} in waste["choices"]
        lamp = next(c for c in categories if c["code"] == "street_light_out")
        assert lamp["attributes"][0]["code"] == "lamp_post_number"
        assert lamp["attributes"][0]["max_length"] == 20
        assert next(c for c in categories if c["code"] == "pothole")["attributes"] == []

    async def test_valid_values_are_stored_shown_and_sent_on(
        self, intake, intake_session
    ):
        body = CONTAINER | {
            "attributes": {"waste_type": "glass", "container_address": "Ruska 10"}
        }
        created = await intake.post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["attributes"] == {
            "waste_type": "glass",
            "container_address": "Ruska 10",
        }
        shown = (await intake.get(f"/v1/reports/{created.json()['id']}")).json()
        assert shown["attributes"] == created.json()["attributes"]
        event = Envelope.model_validate_json(
            await intake_session.scalar(select(OutboxEvent.payload)) or ""
        )
        assert isinstance(event.event, ReportSubmittedV1)
        assert event.event.attributes == {
            "waste_type": "glass",
            "container_address": "Ruska 10",
        }

    @pytest.mark.parametrize(
        ("body", "problems"),
        [
            (CONTAINER, {"attributes.waste_type": "missing"}),
            (
                CONTAINER | {"attributes": {"waste_type": "oil"}},
                {"attributes.waste_type": "choice"},
            ),
            (
                CONTAINER | {"attributes": {"waste_type": 3}},
                {"attributes.waste_type": "string"},
            ),
            (
                CONTAINER | {"attributes": {"waste_type": "paper", "colour": "red"}},
                {"attributes.colour": "unknown"},
            ),
            (
                LAMP | {"attributes": {"lamp_post_number": "x" * 21}},
                {"attributes.lamp_post_number": "too_long"},
            ),
            (
                POTHOLE
                | {"category": "damaged_road_sign", "attributes": {"sign_down": "yes"}},
                {"attributes.sign_down": "boolean"},
            ),
        ],
    )
    async def test_wrong_values_are_named_and_nothing_is_stored(
        self, intake, intake_session, body, problems
    ):
        response = await intake.post(
            "/v1/reports", json=body, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["type"] == "urn:mam:problem:validation-failed"
        assert {e["field"]: e["code"] for e in problem["errors"]} == problems
        assert all(e["message"] for e in problem["errors"])
        assert await intake_session.scalar(select(OutboxEvent.id)) is None

    @pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
    async def test_a_number_that_is_not_finite_is_refused(
        self, intake, intake_session, value
    ):
        body = json.dumps(LAMP).replace(
            '"category"', f'"attributes": {{"lamp_post_number": {value}}}, "category"'
        )
        response = await intake.post(
            "/v1/reports", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "urn:mam:problem:validation-failed"
        assert await intake_session.scalar(select(OutboxEvent.id)) is None

    async def test_messages_are_localized(self, intake):
        response = await intake.post(
            "/v1/reports", json=CONTAINER, headers={"Accept-Language": "pl"}
        )
        assert (
            response.json()["errors"][0]["message"]
            == "To pole jest wymagane w tej kategorii."
        )
