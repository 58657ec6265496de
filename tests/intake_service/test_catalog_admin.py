"""Operators make and change categories and groups; the adapter's routing names the units."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from intake_service.db import OutboxEvent
from shared.contracts import (
    Envelope,
    Names,
    ReportStatus,
    RoutingChangedV1,
    RoutingUnit,
)
from shared.settings import DEV_SECRETS
from tests.helpers import MANAGE, POTHOLE, READ
from tests.signed import signed, status_event

GRAFFITI: dict[str, Any] = {
    "group": "roads",
    "names": {"pl": "Graffiti", "en": "Graffiti", "de": "Graffiti"},
    "expected_resolution": {"working_days": 30},
    "duplicate_radius_m": 100,
    "attributes": [
        {
            "code": "surface",
            "names": {"pl": "Powierzchnia", "en": "Surface", "de": "Fläche"},
            "datatype": "choice",
            "required": True,
            "choices": [
                {"code": "wall", "names": {"pl": "Ściana", "en": "Wall", "de": "Wand"}},
                {
                    "code": "bench",
                    "names": {"pl": "Ławka", "en": "Bench", "de": "Bank"},
                },
            ],
        }
    ],
}

GREEN_TEAM = {
    "pl": "Wydział Zieleni",
    "en": "Green Spaces Department",
    "de": "Grünflächenamt",
}


def routing_event(version: int, category_units: dict[str, str]):
    now = dt.datetime.now(dt.UTC)
    event = RoutingChangedV1(
        version=version,
        units=[
            RoutingUnit(code="zielen", names=Names(**GREEN_TEAM)),
            RoutingUnit(
                code="zdium",
                names=Names(pl="ZDiUM", en="Roads Board", de="Straßenamt"),
            ),
        ],
        category_units=category_units,
        changed_at=now,
    )
    envelope = Envelope(occurred_at=now, source="adapter", event=event)
    return signed(envelope, DEV_SECRETS["adapter_to_intake"])


def writable(category: dict) -> dict:
    """A category as read, less what is not written."""
    return {k: v for k, v in category.items() if k not in ("code", "unit", "revision")}


async def deliver(intake, body_and_headers):
    body, headers = body_and_headers
    response = await intake.post("/internal/events", content=body, headers=headers)
    assert response.status_code in (200, 202), response.text
    return response


async def catalog_events(session) -> list[dict]:
    rows = await session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == "catalog.changed.v1")
        .order_by(OutboxEvent.seq)
    )
    return [json.loads(row.payload)["event"] for row in rows]


class TestMakingCategories:
    async def test_a_new_category_is_offered_to_residents_and_told_to_the_adapter(
        self, intake, intake_session
    ):
        made = await intake.put(
            "/v1/operator/categories/graffiti", json=GRAFFITI, headers=MANAGE
        )
        assert made.status_code == 201, made.text
        assert made.headers["ETag"] == '"1"'
        assert made.json()["unit"] is None  # until the routing names one

        listed = await intake.get("/v1/categories", params={"lang": "de"})
        graffiti = next(c for c in listed.json() if c["code"] == "graffiti")
        assert graffiti["unit"] is None
        assert graffiti["attributes"][0]["name"] == "Fläche"
        assert graffiti["expected_resolution_working_days"] == 30

        filed = await intake.post(
            "/v1/reports",
            json={**POTHOLE, "category": "graffiti", "attributes": {"surface": "wall"}},
        )
        assert filed.status_code == 201, filed.text

        (event,) = await catalog_events(intake_session)
        assert event["version"] == 2
        told = {c["code"]: c for c in event["categories"]}
        assert told["graffiti"]["resolution_target"] == {
            "hours": None,
            "working_days": 30,
        }
        assert told["graffiti"]["names"]["de"] == "Graffiti"
        assert "pothole" in told  # the whole catalog, each time

        actions = (await intake.get("/v1/operator/actions", headers=MANAGE)).json()[
            "items"
        ]
        assert actions[0]["action"] == "category.create"
        assert actions[0]["target_id"] == "graffiti"
        assert actions[0]["operator_name"] == "city-manager"

    async def test_a_change_needs_the_revision_it_was_made_on(self, intake):
        url = "/v1/operator/categories/pothole"
        read = await intake.get(url, headers=READ)
        assert read.headers["ETag"] == '"1"'
        body = writable(read.json())
        body["names"]["en"] = "Pothole in the road"

        missing = await intake.put(url, json=body, headers=MANAGE)
        assert missing.status_code == 428
        assert missing.json()["type"].endswith(":revision-required")

        changed = await intake.put(
            url, json=body, headers={**MANAGE, "If-Match": read.headers["ETag"]}
        )
        assert changed.status_code == 200, changed.text
        assert changed.headers["ETag"] == '"2"'

        stale = await intake.put(
            url,
            json=body,
            headers={
                **MANAGE,
                "If-Match": read.headers["ETag"],
                "Accept-Language": "pl",
            },
        )
        assert stale.status_code == 412
        assert stale.json()["title"] == "Zmieniło się od czasu odczytu"

        listed = await intake.get("/v1/categories", params={"lang": "en"})
        names = {c["code"]: c["name"] for c in listed.json()}
        assert names["pothole"] == "Pothole in the road"

    async def test_making_one_that_exists_without_if_match_is_refused(self, intake):
        response = await intake.put(
            "/v1/operator/categories/pothole",
            json={**GRAFFITI, "attributes": []},
            headers=MANAGE,
        )
        assert response.status_code == 428

    async def test_if_match_on_one_that_does_not_exist_is_a_412(self, intake):
        response = await intake.put(
            "/v1/operator/categories/graffiti",
            json=GRAFFITI,
            headers={**MANAGE, "If-Match": '"1"'},
        )
        assert response.status_code == 412
        assert (
            await intake.get("/v1/operator/categories/graffiti", headers=READ)
        ).status_code == 404

    async def test_a_retired_category_keeps_its_reports_and_takes_no_new_ones(
        self, intake
    ):
        filed = await intake.post("/v1/reports", json=POTHOLE)
        assert filed.status_code == 201
        read = await intake.get("/v1/operator/categories/pothole", headers=READ)
        body = writable(read.json())
        retired = await intake.put(
            "/v1/operator/categories/pothole",
            json={**body, "active": False},
            headers={**MANAGE, "If-Match": read.headers["ETag"]},
        )
        assert retired.status_code == 200, retired.text

        codes = [c["code"] for c in (await intake.get("/v1/categories")).json()]
        assert "pothole" not in codes
        refused = await intake.post("/v1/reports", json=POTHOLE)
        assert refused.status_code == 422, refused.text
        kept = await intake.get(f"/v1/reports/{filed.json()['id']}")
        assert kept.json()["category"]["code"] == "pothole"
        catalog = (await intake.get("/v1/operator/catalog", headers=READ)).json()
        assert {c["code"]: c["active"] for c in catalog["categories"]}[
            "pothole"
        ] is False


class TestRefusals:
    async def test_without_a_key_and_with_a_read_key(self, intake):
        url = "/v1/operator/categories/graffiti"
        assert (await intake.put(url, json=GRAFFITI)).status_code == 401
        assert (await intake.put(url, json=GRAFFITI, headers=READ)).status_code == 403
        assert (await intake.get("/v1/operator/catalog")).status_code == 401

    async def test_names_in_every_language_are_required(self, intake):
        response = await intake.put(
            "/v1/operator/categories/graffiti",
            json={**GRAFFITI, "names": {"pl": "Graffiti", "en": "  "}},
            headers={**MANAGE, "Accept-Language": "de"},
        )
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"names.en", "names.de"}

    async def test_a_choice_without_choices_is_explained_in_the_language(self, intake):
        attribute = {**GRAFFITI["attributes"][0], "choices": None}
        response = await intake.put(
            "/v1/operator/categories/graffiti",
            json={**GRAFFITI, "attributes": [attribute]},
            headers={**MANAGE, "Accept-Language": "pl"},
        )
        assert response.status_code == 422
        messages = [e["message"] for e in response.json()["errors"]]
        assert "Podaj wybory (choices) dla pola wyboru i tylko dla niego." in messages

    async def test_an_unknown_group_changes_nothing(self, intake, intake_session):
        response = await intake.put(
            "/v1/operator/categories/graffiti",
            json={**GRAFFITI, "group": "green"},
            headers=MANAGE,
        )
        assert response.status_code == 422
        assert response.json()["type"].endswith(":category-group-unknown")
        assert await catalog_events(intake_session) == []
        catalog = (await intake.get("/v1/operator/catalog", headers=READ)).json()
        assert catalog["version"] == 1


class TestGroups:
    async def test_a_group_is_made_then_changed_with_its_revision(self, intake):
        url = "/v1/operator/category-groups/green"
        names = {"pl": "Zieleń", "en": "Green spaces", "de": "Grünflächen"}
        made = await intake.put(
            url, json={"names": names, "position": 3}, headers=MANAGE
        )
        assert made.status_code == 201, made.text
        renamed = await intake.put(
            url,
            json={"names": {**names, "en": "Parks"}, "position": 3},
            headers={**MANAGE, "If-Match": made.headers["ETag"]},
        )
        assert renamed.status_code == 200
        assert renamed.json()["revision"] == 2

        filed = await intake.put(
            "/v1/operator/categories/fallen_branch",
            json={**GRAFFITI, "group": "green", "attributes": []},
            headers=MANAGE,
        )
        assert filed.status_code == 201
        listed = await intake.get("/v1/categories", params={"lang": "en"})
        branch = next(c for c in listed.json() if c["code"] == "fallen_branch")
        assert branch["group"] == {"code": "green", "name": "Parks"}


class TestRoutingFromTheAdapter:
    async def test_units_and_usual_units_follow_a_newer_routing_version(self, intake):
        await intake.put(
            "/v1/operator/categories/graffiti", json=GRAFFITI, headers=MANAGE
        )
        await deliver(
            intake, routing_event(2, {"graffiti": "zielen", "pothole": "zdium"})
        )

        listed = await intake.get("/v1/categories", params={"lang": "de"})
        units = {c["code"]: c["unit"] for c in listed.json()}
        assert units["graffiti"] == {"code": "zielen", "name": "Grünflächenamt"}
        assert units["pothole"] == {"code": "zdium", "name": "Straßenamt"}
        # A category the version has no rule for has no usual unit.
        assert units["flooding"] is None

        catalog = (await intake.get("/v1/operator/catalog", headers=READ)).json()
        assert catalog["routing_version"] == 2

    async def test_an_older_or_repeated_version_changes_nothing(self, intake):
        await deliver(intake, routing_event(3, {"pothole": "zielen"}))
        await deliver(intake, routing_event(2, {"pothole": "zdium"}))
        listed = await intake.get("/v1/categories", params={"lang": "en"})
        units = {c["code"]: c["unit"] for c in listed.json()}
        assert units["pothole"]["code"] == "zielen"

    async def test_a_status_naming_a_unit_not_yet_told_shows_its_code(self, intake):
        filed = await intake.post("/v1/reports", json=POTHOLE)
        report_id = filed.json()["id"]
        await deliver(
            intake, status_event(report_id, ReportStatus.SUBMITTED, 1, unit="zielen")
        )
        report = (await intake.get(f"/v1/reports/{report_id}")).json()
        assert report["unit"] == {"code": "zielen", "name": "zielen"}

        await deliver(intake, routing_event(2, {"pothole": "zielen"}))
        report = (
            await intake.get(f"/v1/reports/{report_id}", params={"lang": "en"})
        ).json()
        assert report["unit"] == {"code": "zielen", "name": "Green Spaces Department"}
