"""Intake's categories at the adapter, and the routing told to intake with units' names."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from crm_adapter.db import OutboxEvent
from shared.contracts import (
    CatalogCategory,
    CatalogChangedV1,
    Envelope,
    Names,
    ResolutionTarget,
)
from shared.contracts.catalog import MAX_CATEGORIES
from shared.settings import DEV_SECRETS
from tests.crm_adapter.test_routing import DISTRICT, current, put, table
from tests.signed import signed

GREEN = {
    "pl": "Wydział Zieleni",
    "en": "Green Spaces Department",
    "de": "Grünflächenamt",
}


def catalog_event(version: int, *codes: str, retired: tuple[str, ...] = ()):
    now = dt.datetime.now(dt.UTC)
    event = CatalogChangedV1(
        version=version,
        categories=[
            CatalogCategory(
                code=code,
                group="roads",
                names=Names(pl=code, en=code, de=code),
                active=code not in retired,
                resolution_target=ResolutionTarget(working_days=5),
            )
            for code in (*codes, *retired)
        ],
        changed_at=now,
    )
    envelope = Envelope(occurred_at=now, source="intake", event=event)
    return signed(envelope, DEV_SECRETS["intake_to_adapter"])


async def tell(adapter, body_and_headers) -> None:
    body, headers = body_and_headers
    response = await adapter.post("/internal/events", content=body, headers=headers)
    assert response.status_code == 202, response.text


async def routing_events(session) -> list[dict]:
    await session.rollback()
    rows = await session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == "routing.changed.v1")
        .order_by(OutboxEvent.seq)
    )
    return [json.loads(row.payload)["event"] for row in rows]


class TestIntakesCategories:
    async def test_before_intake_tells_them_there_is_no_coverage(self, adapter):
        assert (await current(adapter)).json()["coverage"] is None

    async def test_the_table_says_which_categories_no_rule_covers(self, adapter):
        await tell(
            adapter,
            catalog_event(2, "pothole", "graffiti", "fallen_tree", retired=("old",)),
        )
        coverage = (await current(adapter)).json()["coverage"]
        # `old` is retired: its reports no longer come. The defaults have rules for
        # categories intake no longer has (this catalog is short): they are named.
        assert coverage["catalog_version"] == 2
        assert coverage["uncovered"] == ["graffiti"]
        assert "flooding" in coverage["unknown"]
        assert "pothole" not in coverage["unknown"]

    async def test_an_older_catalog_changes_nothing(self, adapter):
        await tell(adapter, catalog_event(3, "pothole", "graffiti"))
        await tell(adapter, catalog_event(2, "pothole"))
        coverage = (await current(adapter)).json()["coverage"]
        assert (coverage["catalog_version"], coverage["uncovered"]) == (3, ["graffiti"])

    async def test_the_largest_catalog_there_can_be_is_taken(self, adapter):
        """500 categories with names of 200 characters: well over a webhook's 64 KiB."""
        now = dt.datetime.now(dt.UTC)
        long = "Ż" * 200
        event = CatalogChangedV1(
            version=2,
            categories=[
                CatalogCategory(
                    code=f"category_{i}",
                    group="roads",
                    names=Names(pl=long, en=long, de=long),
                    active=True,
                    resolution_target=ResolutionTarget(working_days=5),
                )
                for i in range(MAX_CATEGORIES)
            ],
            changed_at=now,
        )
        envelope = Envelope(occurred_at=now, source="intake", event=event)
        body, headers = signed(envelope, DEV_SECRETS["intake_to_adapter"])
        assert len(body) > 64 * 1024
        await tell(adapter, (body, headers))
        coverage = (await current(adapter)).json()["coverage"]
        assert coverage["catalog_version"] == 2
        assert len(coverage["uncovered"]) == MAX_CATEGORIES


class TestRoutingToldToIntake:
    async def test_a_new_version_tells_units_names_and_usual_units(
        self, adapter, adapter_session
    ):
        units: list[dict] = [
            {"code": "zdium", "name": "ZDiUM", "connector": "rest_json"},
            {
                "code": "zielen",
                "name": "Zieleń",
                "connector": "rest_json",
                "names": GREEN,
            },
        ]
        response = await put(
            adapter,
            table(
                {"category": "pothole", "unit": "zielen", "area": DISTRICT},
                {"category": "pothole", "unit": "zdium"},
                {"category": "graffiti", "unit": "zielen", "area": DISTRICT},
                units=units,
            ),
        )
        assert response.status_code == 200, response.text
        read_units = {u["code"]: u for u in response.json()["units"]}
        assert read_units["zielen"]["names"] == GREEN

        (event,) = await routing_events(adapter_session)
        assert event["version"] == 2
        names = {u["code"]: u["names"] for u in event["units"]}
        assert names["zielen"] == GREEN
        # zdium's names were the defaults' (in pl, en and de); kept when left out.
        assert names["zdium"]["en"] == "Roads and City Maintenance Board"
        # The rule without area is a category's usual unit; else its first rule.
        assert event["category_units"] == {"pothole": "zdium", "graffiti": "zielen"}

    async def test_a_unit_never_given_names_is_told_by_its_name(
        self, adapter, adapter_session
    ):
        units = [{"code": "parks", "name": "Parki", "connector": "rest_json"}]
        response = await put(
            adapter, table({"category": "pothole", "unit": "parks"}, units=units)
        )
        assert response.status_code == 200, response.text
        (event,) = await routing_events(adapter_session)
        assert event["units"] == [
            {"code": "parks", "names": {"pl": "Parki", "en": "Parki", "de": "Parki"}}
        ]

    async def test_a_refused_table_tells_nothing(self, adapter, adapter_session):
        units = [{"code": "zdium", "name": "ZDiUM", "connector": "nowhere"}]
        response = await put(
            adapter, table({"category": "pothole", "unit": "zdium"}, units=units)
        )
        assert response.status_code == 422
        assert await routing_events(adapter_session) == []
