"""The routing table over HTTP: versions, validation, lost updates, areas, held reports."""

import asyncio
import copy
import datetime as dt
import re
import uuid

import httpx
import pytest
from sqlalchemy import select

from crm_adapter.cases.models import Case
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.db import OutboxEvent
from crm_adapter.deliveries.pusher import CasePusher
from shared.contracts import Envelope, ReportStatusChangedV1
from shared.retry import Backoff
from shared.settings import DEV_SECRETS
from tests.helpers import MANAGE, READ
from tests.signed import submitted_event

# A district (a rectangle) in the city centre; the default test point (51.1097, 17.0326)
# lies inside it.
DISTRICT = {
    "type": "Polygon",
    "coordinates": [
        [[17.00, 51.10], [17.06, 51.10], [17.06, 51.13], [17.00, 51.13], [17.00, 51.10]]
    ],
}
INSIDE = (51.1097, 17.0326)
OUTSIDE = (51.0800, 17.0326)
ON_THE_EDGE = (51.10, 17.03)  # on the district's southern edge
# The same district as rings that start at another corner and turn the other way.
DISTRICT_AGAIN = {
    "type": "Polygon",
    "coordinates": [
        [[17.06, 51.13], [17.06, 51.10], [17.00, 51.10], [17.00, 51.13], [17.06, 51.13]]
    ],
}
# Its western half.
WEST = {
    "type": "MultiPolygon",
    "coordinates": [
        [
            [
                [17.00, 51.10],
                [17.03, 51.10],
                [17.03, 51.13],
                [17.00, 51.13],
                [17.00, 51.10],
            ]
        ]
    ],
}

UNITS = [
    {
        "code": "zdium",
        "name": "Zarząd Dróg i Utrzymania Miasta",
        "connector": "rest_json",
    },
    {"code": "ekosystem", "name": "Ekosystem", "connector": "rest_json"},
    {
        "code": "czk",
        "name": "Centrum Zarządzania Kryzysowego",
        "connector": "rest_json",
    },
]


def table(*rules: dict, units: list[dict] | None = None, comment: str | None = None):
    return {
        "comment": comment,
        "units": copy.deepcopy(UNITS if units is None else units),
        "rules": [copy.deepcopy(rule) for rule in rules],
    }


async def current(adapter) -> httpx.Response:
    response = await adapter.get("/admin/routing", headers=READ)
    assert response.status_code == 200, response.text
    return response


async def put(adapter, body, *, etag: str | None = None) -> httpx.Response:
    if etag is None:
        etag = (await current(adapter)).headers["ETag"]
    return await adapter.put(
        "/admin/routing", json=body, headers={**MANAGE, "If-Match": etag}
    )


async def deliver(adapter, category="pothole", *, at=INSIDE) -> uuid.UUID:
    report_id = uuid.uuid4()
    body, headers = submitted_event(category, report_id, lat=at[0], lon=at[1])
    response = await adapter.post("/internal/events", content=body, headers=headers)
    assert response.status_code == 202, response.text
    return report_id


async def case_of(adapter_session, report_id) -> Case:
    await adapter_session.rollback()  # a fresh look, not the last one's snapshot
    case = await adapter_session.scalar(select(Case).where(Case.report_id == report_id))
    assert case is not None
    return case


class TestReadTheTable:
    async def test_version_1_is_the_default_table(self, adapter):
        response = await current(adapter)
        assert response.headers["ETag"] == '"1"'
        body = response.json()
        assert (body["version"], body["created_by"], body["replaced_at"]) == (
            1,
            "defaults",
            None,
        )
        assert {(u["code"], u["connector"]) for u in body["units"]} == {
            ("zdium", "rest_json"),
            ("ekosystem", "rest_json"),
            ("czk", "rest_json"),
        }
        rules = {r["category"]: r["unit"] for r in body["rules"]}
        assert len(rules) == len(body["rules"]) == 14
        assert (rules["pothole"], rules["illegal_dumping"], rules["flooding"]) == (
            "zdium",
            "ekosystem",
            "czk",
        )
        assert all(r["area"] is None for r in body["rules"])

    async def test_needs_an_operator_key_and_changes_need_manage(self, adapter):
        assert (await adapter.get("/admin/routing")).status_code == 401
        body = table({"category": "pothole", "unit": "zdium"})
        refused = await adapter.put(
            "/admin/routing", json=body, headers={**READ, "If-Match": '"1"'}
        )
        assert refused.status_code == 403
        assert refused.json()["type"] == "urn:mam:problem:operator-role-missing"
        assert (await current(adapter)).json()["version"] == 1


class TestReplaceTheTable:
    async def test_a_new_version_takes_effect_and_the_old_one_is_kept(self, adapter):
        body = table(
            {"category": "pothole", "unit": "czk", "note": "Winter: crisis centre"},
            {"category": "fallen_tree", "unit": "czk"},
            comment="Potholes go to the crisis centre",
        )
        response = await put(adapter, body)
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        made = response.json()
        assert (made["version"], made["created_by"], made["comment"]) == (
            2,
            "city-manager",
            "Potholes go to the crisis centre",
        )
        assert [(r["position"], r["category"], r["unit"]) for r in made["rules"]] == [
            (0, "pothole", "czk"),
            (1, "fallen_tree", "czk"),
        ]
        assert (await current(adapter)).json() == made

        history = (await adapter.get("/admin/routing/versions", headers=READ)).json()
        assert [v["version"] for v in history["items"]] == [2, 1]
        assert history["items"][0]["replaced_at"] is None
        assert history["items"][1]["replaced_at"] is not None
        assert history["next_before"] is None

        old = await adapter.get("/admin/routing/versions/1", headers=READ)
        assert old.status_code == 200
        assert old.headers["ETag"] == '"1"'
        assert len(old.json()["rules"]) == 14
        missing = await adapter.get("/admin/routing/versions/9", headers=READ)
        assert missing.status_code == 404
        assert missing.json()["type"] == "urn:mam:problem:routing-version-not-found"

    async def test_each_change_is_in_the_audit_log(self, adapter):
        assert (
            await put(adapter, table({"category": "pothole", "unit": "zdium"}))
        ).status_code == 200
        actions = (await adapter.get("/admin/actions", headers=MANAGE)).json()["items"]
        [action] = [a for a in actions if a["action"] == "routing.replace"]
        assert (action["operator_name"], action["target_id"]) == ("city-manager", "2")
        assert action["details"]["replaced"] == 1

    async def test_versions_are_listed_in_pages(self, adapter):
        for n in range(2, 5):
            rule = {"category": "pothole", "unit": "zdium", "note": f"take {n}"}
            assert (await put(adapter, table(rule))).status_code == 200
        first = (
            await adapter.get("/admin/routing/versions?limit=3", headers=READ)
        ).json()
        assert [v["version"] for v in first["items"]] == [4, 3, 2]
        rest = (
            await adapter.get(
                f"/admin/routing/versions?limit=3&before={first['next_before']}",
                headers=READ,
            )
        ).json()
        assert ([v["version"] for v in rest["items"]], rest["next_before"]) == (
            [1],
            None,
        )


class TestLostUpdates:
    async def test_without_if_match_nothing_changes(self, adapter):
        response = await adapter.put(
            "/admin/routing",
            json=table({"category": "pothole", "unit": "czk"}),
            headers=MANAGE,
        )
        assert response.status_code == 428
        assert response.json()["type"] == "urn:mam:problem:routing-version-required"
        assert (await current(adapter)).json()["version"] == 1

    async def test_the_document_says_if_match_is_required(self, adapter):
        spec = (await adapter.get("/openapi.json")).json()
        operation = spec["paths"]["/admin/routing"]["put"]
        [if_match] = [p for p in operation["parameters"] if p["name"] == "If-Match"]
        assert if_match["in"] == "header"
        assert if_match["required"] is True

    async def test_a_change_made_on_an_old_version_is_refused(self, adapter):
        read_by_both = (await current(adapter)).headers["ETag"]
        first = await put(
            adapter, table({"category": "pothole", "unit": "czk"}), etag=read_by_both
        )
        assert first.status_code == 200
        second = await put(
            adapter,
            table({"category": "pothole", "unit": "ekosystem"}),
            etag=read_by_both,
        )
        assert second.status_code == 412
        assert second.json()["type"] == "urn:mam:problem:routing-version-changed"
        assert "2" in second.json()["detail"]
        now = (await current(adapter)).json()
        assert (now["version"], now["rules"][0]["unit"]) == (2, "czk")

    async def test_of_two_simultaneous_changes_one_wins(self, adapter):
        etag = (await current(adapter)).headers["ETag"]
        answers = await asyncio.gather(
            put(adapter, table({"category": "pothole", "unit": "czk"}), etag=etag),
            put(
                adapter, table({"category": "pothole", "unit": "ekosystem"}), etag=etag
            ),
        )
        assert sorted(a.status_code for a in answers) == [200, 412]
        [winner] = [a for a in answers if a.status_code == 200]
        now = (await current(adapter)).json()
        assert now["version"] == 2
        assert now["rules"] == winner.json()["rules"]


OPEN_RING = {
    "type": "Polygon",
    "coordinates": [[[17.00, 51.10], [17.06, 51.10], [17.06, 51.13], [17.00, 51.13]]],
}
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[17.00, 51.10], [17.06, 51.13], [17.06, 51.10], [17.00, 51.13], [17.00, 51.10]]
    ],
}
LAT_LON_SWAPPED = {
    "type": "Polygon",
    "coordinates": [
        [[51.10, 17.00], [51.10, 17.06], [51.13, 17.06], [51.13, 17.00], [51.10, 17.00]]
    ],
}
OFF_THE_EARTH = {
    "type": "Polygon",
    "coordinates": [
        [[17.00, 91.0], [17.06, 91.0], [17.06, 92.0], [17.00, 92.0], [17.00, 91.0]]
    ],
}
A_POINT = {"type": "Point", "coordinates": [17.03, 51.11]}
FLAT = {
    "type": "Polygon",
    "coordinates": [[[17.00, 51.10], [17.03, 51.10], [17.06, 51.10], [17.00, 51.10]]],
}

ROADS = {"category": "pothole", "unit": "zdium"}


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        pytest.param(
            table(ROADS, {"category": "flooding", "unit": "straz"}),
            "rules.1.unit",
            "unit-unknown",
            id="unknown unit",
        ),
        pytest.param(
            table(
                ROADS,
                units=[{"code": "zdium", "name": "ZDiUM", "connector": "soap_xml"}],
            ),
            "units.0.connector",
            "connector-unknown",
            id="unknown connector of a unit",
        ),
        pytest.param(
            table({**ROADS, "connector": "soap_xml"}),
            "rules.0.connector",
            "connector-unknown",
            id="unknown connector of a rule",
        ),
        pytest.param(
            table(ROADS, units=[*UNITS, {**UNITS[0], "name": "Again"}]),
            "units.3.code",
            "unit-duplicate",
            id="two units with one code",
        ),
        pytest.param(
            table(ROADS, {"category": "pothole", "unit": "czk"}),
            "rules.1",
            "rule-duplicate",
            id="two rules without area",
        ),
        pytest.param(
            table(
                ROADS,
                {"category": "pothole", "unit": "czk", "area": DISTRICT},
                {"category": "pothole", "unit": "ekosystem", "area": DISTRICT_AGAIN},
            ),
            "rules.2",
            "rule-duplicate",
            id="two rules with the same area",
        ),
        pytest.param(
            table(ROADS, {"category": "pothole", "unit": "czk", "area": OPEN_RING}),
            "rules.1.area",
            "area-invalid",
            id="open ring",
        ),
        pytest.param(
            table(ROADS, {"category": "pothole", "unit": "czk", "area": BOW_TIE}),
            "rules.1.area",
            "area-invalid",
            id="self-intersecting",
        ),
        pytest.param(
            table(
                ROADS, {"category": "pothole", "unit": "czk", "area": LAT_LON_SWAPPED}
            ),
            "rules.1.area",
            "area-invalid",
            id="latitude first",
        ),
        pytest.param(
            table(ROADS, {"category": "pothole", "unit": "czk", "area": OFF_THE_EARTH}),
            "rules.1.area",
            "area-invalid",
            id="out of bounds",
        ),
        pytest.param(
            table(ROADS, {"category": "pothole", "unit": "czk", "area": A_POINT}),
            "rules.1.area",
            "area-invalid",
            id="not a polygon",
        ),
        pytest.param(
            table(ROADS, {"category": "pothole", "unit": "czk", "area": FLAT}),
            "rules.1.area",
            "area-invalid",
            id="encloses nothing",
        ),
    ],
)
async def test_an_invalid_table_is_refused_naming_the_entry(adapter, body, field, code):
    response = await put(adapter, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:mam:problem:routing-table-invalid"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]
    assert all(e["message"] for e in problem["errors"])
    assert (await current(adapter)).json()["version"] == 1


async def test_an_unknown_connector_is_told_with_the_configured_ones(adapter):
    body = table({**ROADS, "connector": "soap_xml"})
    response = await adapter.put(
        "/admin/routing",
        json=body,
        headers={**MANAGE, "If-Match": '"1"', "Accept-Language": "en"},
    )
    [error] = response.json()["errors"]
    assert "rest_json" in error["message"]


async def test_the_document_says_a_unit_name_is_more_than_blanks(adapter):
    """It is trimmed before its length is checked: the schema's pattern says so."""
    spec = (await adapter.get("/openapi.json")).json()
    name = spec["components"]["schemas"]["UnitWrite"]["properties"]["name"]
    assert name["minLength"] == 1
    # re.ASCII: a `\s` as narrow as ECMA-262's would not do.
    assert not re.search(name["pattern"], " \x85", re.ASCII)
    units = copy.deepcopy(UNITS)
    units[0]["name"] = " \x85"
    response = await put(adapter, table(units=units))
    assert response.status_code == 422
    assert (await current(adapter)).json()["version"] == 1


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        pytest.param(
            {"category": "Pothole!", "unit": "zdium"}, "rules.0.category", id="category"
        ),
        pytest.param(
            {"category": "pothole", "unit": "zdium", "priority": 5000},
            "rules.0.priority",
            id="priority",
        ),
        pytest.param({"category": "pothole"}, "rules.0.unit", id="missing unit"),
        # The schema says integer: neither a boolean nor a text is one.
        pytest.param(
            {"category": "pothole", "unit": "zdium", "priority": True},
            "rules.0.priority",
            id="boolean priority",
        ),
        pytest.param(
            {"category": "pothole", "unit": "zdium", "priority": "5"},
            "rules.0.priority",
            id="text priority",
        ),
    ],
)
async def test_a_malformed_entry_is_refused_by_its_field(adapter, rule, field):
    response = await put(adapter, table(rule))
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:mam:problem:validation-failed"
    assert field in [e["field"] for e in problem["errors"]]
    assert (await current(adapter)).json()["version"] == 1


class TestAreas:
    async def test_inside_the_district_goes_to_its_unit_outside_to_the_default(
        self, adapter, adapter_session
    ):
        made = await put(
            adapter,
            table(
                ROADS,
                {"category": "pothole", "unit": "czk", "area": DISTRICT},
                {"category": "fallen_tree", "unit": "czk"},
            ),
        )
        assert made.status_code == 200, made.text
        everywhere, district, _ = made.json()["rules"]

        expected = {INSIDE: district, ON_THE_EDGE: district, OUTSIDE: everywhere}
        for point, rule in expected.items():
            case = await case_of(adapter_session, await deliver(adapter, at=point))
            assert (
                case.unit_code,
                case.state,
                case.routing_version,
                case.routing_rule_id,
            ) == (rule["unit"], "pending", 2, rule["id"]), point

        # Another category is not touched by the pothole district.
        tree = await case_of(adapter_session, await deliver(adapter, "fallen_tree"))
        assert tree.unit_code == "czk"

    async def test_where_a_report_would_go_can_be_asked(self, adapter):
        await put(
            adapter,
            table(ROADS, {"category": "pothole", "unit": "czk", "area": DISTRICT}),
        )
        for (lat, lon), unit in [(ON_THE_EDGE, "czk"), (OUTSIDE, "zdium")]:
            answer = await adapter.get(
                "/admin/routing/resolve",
                params={"category": "pothole", "lat": lat, "lon": lon},
                headers=READ,
            )
            assert answer.status_code == 200
            body = answer.json()
            assert (body["version"], body["unit"]["code"], body["connector"]) == (
                2,
                unit,
                "rest_json",
            )
        nowhere = await adapter.get(
            "/admin/routing/resolve",
            params={"category": "noise", "lat": 51.1, "lon": 17.0},
            headers=READ,
        )
        assert nowhere.json() == {
            "version": 2,
            "rule": None,
            "unit": None,
            "connector": None,
        }

    async def test_of_overlapping_areas_priority_then_order_decides(
        self, adapter, adapter_session
    ):
        # The western half is inside the district: both hold a point there.
        west_point = (51.11, 17.01)
        made = await put(
            adapter,
            table(
                ROADS,
                {"category": "pothole", "unit": "czk", "area": DISTRICT},
                {"category": "pothole", "unit": "ekosystem", "area": WEST},
            ),
        )
        assert made.status_code == 200
        # Equal priority: the rule listed first.
        case = await case_of(adapter_session, await deliver(adapter, at=west_point))
        assert case.unit_code == "czk"

        made = await put(
            adapter,
            table(
                ROADS,
                {"category": "pothole", "unit": "czk", "area": DISTRICT},
                {
                    "category": "pothole",
                    "unit": "ekosystem",
                    "area": WEST,
                    "priority": 1,
                },
            ),
        )
        assert made.status_code == 200
        case = await case_of(adapter_session, await deliver(adapter, at=west_point))
        assert (case.unit_code, case.routing_version) == ("ekosystem", 3)
        # In the district but not its western half: the district's rule.
        case = await case_of(adapter_session, await deliver(adapter, at=INSIDE))
        assert case.unit_code == "czk"

    async def test_a_rule_may_send_through_another_connector_than_its_units(
        self, adapter, adapter_session
    ):
        # Only `rest_json` is configured: the override names it explicitly.
        made = await put(adapter, table({**ROADS, "connector": "rest_json"}))
        assert made.status_code == 200
        assert made.json()["rules"][0]["connector"] == "rest_json"
        case = await case_of(adapter_session, await deliver(adapter))
        assert case.connector == "rest_json"


class TestEachCaseKeepsItsVersion:
    async def test_cases_name_the_version_and_rule_they_were_routed_by(
        self, adapter, adapter_session
    ):
        first_rules = {
            r["category"]: r["id"] for r in (await current(adapter)).json()["rules"]
        }
        before = await deliver(adapter)
        made = await put(adapter, table({"category": "pothole", "unit": "czk"}))
        after = await deliver(adapter)

        old = await case_of(adapter_session, before)
        assert (old.routing_version, old.routing_rule_id, old.unit_code) == (
            1,
            first_rules["pothole"],
            "zdium",
        )
        new = await case_of(adapter_session, after)
        assert (new.routing_version, new.routing_rule_id, new.unit_code) == (
            2,
            made.json()["rules"][0]["id"],
            "czk",
        )


def pusher(sessionmaker, crm_simulator_app) -> CasePusher:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=crm_simulator_app), base_url="http://crm"
    )
    connector = RestJsonConnector(
        client=client,
        base_url="http://crm",
        api_key=DEV_SECRETS["crm_api_key"],
        timeout=5,
    )
    return CasePusher(
        sessionmaker=sessionmaker,
        connectors={connector.name: connector},
        backoff=Backoff(base=1e-6, cap=1e-6),
        lease=dt.timedelta(seconds=60),
    )


async def held(adapter) -> list[dict]:
    response = await adapter.get("/admin/unroutable", headers=READ)
    assert response.status_code == 200
    return response.json()["items"]


class TestUnroutable:
    async def test_held_listed_then_routed_by_a_new_version_to_the_crm(
        self,
        adapter,
        adapter_session,
        sessionmaker,
        crm_simulator,
        crm_simulator_app,
    ):
        report_id = await deliver(adapter, "noise_complaint")
        case = await case_of(adapter_session, report_id)
        assert (case.state, case.unit_code, case.routing_version) == (
            "unroutable",
            None,
            1,
        )
        # Nothing goes to the CRM while it is held.
        assert await pusher(sessionmaker, crm_simulator_app).run_once() == 0

        [item] = await held(adapter)
        assert (
            item["report_id"],
            item["category"],
            item["location"],
            item["routing_version"],
        ) == (
            str(report_id),
            "noise_complaint",
            {"lat": INSIDE[0], "lon": INSIDE[1]},
            1,
        )
        assert "noise_complaint" in item["reason"]

        rules = (await current(adapter)).json()["rules"]
        made = await put(
            adapter,
            table(
                *[{"category": r["category"], "unit": r["unit"]} for r in rules],
                {"category": "noise_complaint", "unit": "ekosystem"},
            ),
        )
        assert made.status_code == 200, made.text
        assert await held(adapter) == []
        case = await case_of(adapter_session, report_id)
        assert (case.state, case.unit_code, case.routing_version, case.last_error) == (
            "pending",
            "ekosystem",
            2,
            None,
        )
        actions = (await adapter.get("/admin/actions", headers=MANAGE)).json()["items"]
        assert actions[0]["details"]["routed_unroutable"] == 1

        assert await pusher(sessionmaker, crm_simulator_app).run_once() == 1
        cases = (
            await crm_simulator.get(
                "/api/cases", params={"external_ref": str(report_id)}
            )
        ).json()
        assert [(c["unit"], c["category"]) for c in cases] == [
            ("ekosystem", "noise_complaint")
        ]
        # Intake hears the unit with the first status.
        await adapter_session.rollback()
        payload = await adapter_session.scalar(
            select(OutboxEvent.payload).where(OutboxEvent.aggregate_id == report_id)
        )
        event = Envelope.model_validate_json(payload or "").event
        assert isinstance(event, ReportStatusChangedV1)
        assert (event.report_id, event.status, event.unit) == (
            report_id,
            "submitted",
            "ekosystem",
        )

    async def test_a_version_that_does_not_cover_it_keeps_it_held(
        self, adapter, adapter_session
    ):
        report_id = await deliver(adapter, "noise_complaint")
        assert (await put(adapter, table(ROADS))).status_code == 200
        [item] = await held(adapter)
        assert (item["report_id"], item["routing_version"]) == (str(report_id), 2)

    async def test_an_area_rule_routes_only_the_held_reports_inside_it(
        self, adapter, adapter_session
    ):
        inside = await deliver(adapter, "noise_complaint", at=INSIDE)
        outside = await deliver(adapter, "noise_complaint", at=OUTSIDE)
        made = await put(
            adapter,
            table(
                ROADS, {"category": "noise_complaint", "unit": "czk", "area": DISTRICT}
            ),
        )
        assert made.status_code == 200
        assert (await case_of(adapter_session, inside)).unit_code == "czk"
        assert [i["report_id"] for i in await held(adapter)] == [str(outside)]

    async def test_reroute_on_demand(self, adapter, adapter_session):
        report_id = await deliver(adapter, "noise_complaint")
        answer = await adapter.post("/admin/unroutable/reroute", headers=MANAGE)
        assert answer.status_code == 200
        assert answer.json() == {"version": 1, "routed": 0, "still_unroutable": 1}
        assert (await case_of(adapter_session, report_id)).state == "unroutable"
        refused = await adapter.post("/admin/unroutable/reroute", headers=READ)
        assert refused.status_code == 403
        actions = (await adapter.get("/admin/actions", headers=MANAGE)).json()["items"]
        assert actions[0]["action"] == "unroutable.reroute"

    async def test_the_list_comes_in_pages(self, adapter):
        reports = [await deliver(adapter, "noise_complaint") for _ in range(3)]
        first = (await adapter.get("/admin/unroutable?limit=2", headers=READ)).json()
        rest = (
            await adapter.get(
                "/admin/unroutable",
                params={"limit": 2, "cursor": first["next_cursor"]},
                headers=READ,
            )
        ).json()
        listed = [i["report_id"] for i in first["items"] + rest["items"]]
        assert listed == [str(r) for r in reversed(reports)]
        assert rest["next_cursor"] is None
