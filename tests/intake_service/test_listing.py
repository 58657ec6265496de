"""The public list, map boxes, GeoJSON, pages, nearby reports and likely duplicates."""

import base64
import datetime as dt
import json
import math

import pytest

from intake_service.reports.nearby_repository import SQLITE_CAP
from shared.contracts import ReportStatus
from tests.helpers import POTHOLE
from tests.signed import status_event

RYNEK = {"lat": 51.1097, "lon": 17.0326}


def at(lat: float, lon: float, category: str = "pothole", text: str = "Dziura") -> dict:
    body = {
        "category": category,
        "location": {"lat": lat, "lon": lon},
        "description": text,
    }
    if category == "overflowing_container":
        body["attributes"] = {"waste_type": "mixed"}
    return body


async def file(intake, body) -> dict:
    response = await intake.post("/v1/reports", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def deliver(intake, body_and_headers):
    body, headers = body_and_headers
    assert (
        await intake.post("/internal/events", content=body, headers=headers)
    ).status_code == 202


def cursor_at(moment: str) -> str:
    """A page cursor as the service makes them, at `moment`."""
    raw = json.dumps([moment, "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10"]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class TestPossibleDuplicates:
    async def test_open_reports_close_by_are_listed_nearest_first(self, intake):
        far = await file(intake, at(51.1097, 17.0390))  # ~450 m east: beyond 250 m
        near = await file(intake, at(51.1099, 17.0326))  # ~22 m north
        nearer = await file(intake, at(51.1098, 17.0326))  # ~11 m north
        await file(
            intake, at(51.1097, 17.0327, category="damaged_bench")
        )  # other category
        created = await file(intake, POTHOLE)
        found = created["possible_duplicates"]
        assert [d["id"] for d in found] == [nearer["id"], near["id"]]
        assert far["id"] not in {d["id"] for d in found}
        assert 5 <= found[0]["distance_m"] <= 20
        assert found[0]["number"] == nearer["number"]

    async def test_closed_reports_are_not_duplicates(self, intake):
        first = await file(intake, POTHOLE)
        await deliver(intake, status_event(first["id"], ReportStatus.RESOLVED, 1))
        assert (await file(intake, POTHOLE))["possible_duplicates"] == []

    async def test_at_most_five(self, intake):
        for _ in range(7):
            await file(intake, POTHOLE)
        assert len((await file(intake, POTHOLE))["possible_duplicates"]) == 5

    async def test_the_five_nearest_of_many_come_first(self, intake):
        # Filed in a shuffled order, 10 to 80 m north of the market square.
        for metres in (80, 10, 70, 20, 60, 30, 50, 40):
            await file(intake, at(51.1097 + metres / 111_195, 17.0326))
        found = (await file(intake, POTHOLE))["possible_duplicates"]
        assert [d["distance_m"] for d in found] == [10, 20, 30, 40, 50]

    async def test_the_nearest_come_first_in_every_direction(self, intake):
        # Many reports 25 m to the north-east and one 22 m to the north-west: the
        # north-west one is the nearest whichever way the index happens to order them.
        def towards(metres: float, east: float, north: float) -> dict:
            scale = metres / math.hypot(east, north) / 111_195
            return at(
                51.1097 + north * scale,
                17.0326 + east * scale / math.cos(math.radians(51.1097)),
            )

        for i in range(45):
            await file(intake, towards(25 + i / 100, 1, 1))
        north_west = await file(intake, towards(22, -1, 1))
        found = (await file(intake, POTHOLE))["possible_duplicates"]
        assert found[0]["id"] == north_west["id"]
        assert [d["distance_m"] for d in found] == [22, 25, 25, 25, 25]

    async def test_reports_just_inside_the_radius_count_in_every_direction(
        self, intake
    ):
        # Near 250 m on the four diagonals, where the index's plane stretches or shrinks
        # distances the most: those inside count, those outside do not.
        def towards(metres: float, east: float, north: float) -> dict:
            scale = metres / math.hypot(east, north) / 111_195
            return at(
                51.1097 + north * scale,
                17.0326 + east * scale / math.cos(math.radians(51.1097)),
            )

        diagonals = [(1, 1), (-1, 1), (-1, -1), (1, -1)]
        for i, (east, north) in enumerate(diagonals):
            await file(intake, towards(240 + i, east, north))
            await file(intake, towards(258, east, north))
        found = (await file(intake, POTHOLE))["possible_duplicates"]
        assert [d["distance_m"] for d in found] == [240, 241, 242, 243]

    async def test_the_nearest_come_first_at_a_crowded_spot(self, intake):
        # More open reports within the radius than SQLite sorts at once: the nearest are
        # found in smaller boxes, whether the smallest holds enough or not.
        def north(metres: float) -> dict:
            return at(51.1097 + metres / 111_195, 17.0326)

        def east(metres: float) -> dict:
            scale = 111_195 * math.cos(math.radians(51.1097))
            return at(51.1097, 17.0326 + metres / scale)

        for i in range(SQLITE_CAP + 5):
            await file(intake, (north if i % 2 else east)(100 + i % 100))
        for metres in (40, 10, 12, 14):
            await file(intake, east(metres))
        found = (await file(intake, POTHOLE))["possible_duplicates"]
        assert [d["distance_m"] for d in found] == [10, 12, 14, 40, 100]
        await file(intake, north(13))
        await file(intake, north(11))
        found = (await file(intake, POTHOLE))["possible_duplicates"]
        assert [d["distance_m"] for d in found] == [0, 10, 11, 12, 13]

    async def test_only_reports_of_the_last_30_days_count(self, intake, clock):
        await file(intake, POTHOLE)
        clock.advance(dt.timedelta(days=31))
        assert (await file(intake, POTHOLE))["possible_duplicates"] == []

    async def test_the_category_radius_applies(self, intake):
        # Containers count as the same only within 50 m; this one is ~70 m away.
        await file(intake, at(51.1097, 17.0336, category="overflowing_container"))
        created = await file(
            intake, at(51.1097, 17.0326, category="overflowing_container")
        )
        assert created["possible_duplicates"] == []


class TestNearby:
    async def test_before_filing_the_same_list_is_offered(self, intake):
        existing = await file(intake, POTHOLE)
        response = await intake.get(
            "/v1/reports/nearby", params=RYNEK | {"category": "pothole"}
        )
        assert response.status_code == 200
        assert [r["id"] for r in response.json()] == [existing["id"]]
        assert response.json()[0]["distance_m"] == 0

    async def test_unknown_category_and_bad_position_are_422(self, intake):
        unknown = await intake.get(
            "/v1/reports/nearby", params=RYNEK | {"category": "ufo"}
        )
        assert unknown.status_code == 422
        assert unknown.json()["type"] == "urn:mam:problem:unknown-category"
        bad = await intake.get(
            "/v1/reports/nearby", params={"lat": 95, "lon": 17, "category": "pothole"}
        )
        assert bad.status_code == 422


class TestList:
    async def test_pages_walk_every_report_once_newest_first(self, intake):
        ids = [(await file(intake, POTHOLE))["id"] for _ in range(5)]
        seen, cursor = [], None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await intake.get("/v1/reports", params=params)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(ids))

    async def test_a_report_filed_between_pages_does_not_shift_them(self, intake):
        ids = [(await file(intake, POTHOLE))["id"] for _ in range(3)]
        first = (await intake.get("/v1/reports", params={"limit": 2})).json()
        await file(intake, POTHOLE)
        second = (
            await intake.get(
                "/v1/reports", params={"limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()
        assert [i["id"] for i in first["items"] + second["items"]] == list(
            reversed(ids)
        )

    async def test_filters_by_box_category_and_status(self, intake):
        centre = await file(intake, POTHOLE)
        bench = await file(intake, at(51.1097, 17.0326, category="damaged_bench"))
        east = await file(intake, at(51.1000, 17.1200))
        await deliver(intake, status_event(bench["id"], ReportStatus.IN_PROGRESS, 1))

        def ids(response):
            assert response.status_code == 200, response.text
            return {item["id"] for item in response.json()["items"]}

        box = {"bbox": "17.00,51.10,17.05,51.12"}
        assert ids(await intake.get("/v1/reports", params=box)) == {
            centre["id"],
            bench["id"],
        }
        assert ids(
            await intake.get(
                "/v1/reports", params={"category": "damaged_bench,pothole"}
            )
        ) == {
            centre["id"],
            bench["id"],
            east["id"],
        }
        assert ids(await intake.get("/v1/reports", params={"category": "pothole"})) == {
            centre["id"],
            east["id"],
        }
        assert ids(
            await intake.get("/v1/reports", params={"status": "in_progress"})
        ) == {bench["id"]}
        assert ids(
            await intake.get("/v1/reports", params=box | {"status": "received"})
        ) == {centre["id"]}

    async def test_since_keeps_what_changed_after(self, intake):
        old = await file(intake, POTHOLE)
        later = dt.datetime.now(dt.UTC)
        new = await file(intake, POTHOLE)
        await deliver(intake, status_event(old["id"], ReportStatus.IN_PROGRESS, 1))
        since = (later).isoformat()
        response = await intake.get("/v1/reports", params={"since": since})
        assert {i["id"] for i in response.json()["items"]} == {old["id"], new["id"]}
        future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
        assert (await intake.get("/v1/reports", params={"since": future})).json()[
            "items"
        ] == []

    async def test_geojson_for_maps(self, intake):
        created = await file(intake, POTHOLE)
        response = await intake.get(
            "/v1/reports", headers={"Accept": "application/geo+json"}
        )
        assert response.headers["content-type"].startswith("application/geo+json")
        collection = response.json()
        assert collection["type"] == "FeatureCollection"
        [feature] = collection["features"]
        assert feature["geometry"] == {
            "type": "Point",
            "coordinates": [RYNEK["lon"], RYNEK["lat"]],
        }
        assert feature["properties"]["number"] == created["number"]
        assert collection["next_cursor"] is None

    @pytest.mark.parametrize(
        ("params", "problem"),
        [
            ({"bbox": "17,51,17.1"}, "invalid-bbox"),
            ({"bbox": "17.1,51,17,51.2"}, "invalid-bbox"),
            ({"bbox": "a,b,c,d"}, "invalid-bbox"),
            # An empty box is no box, not every report.
            ({"bbox": ""}, "validation-failed"),
            ({"status": "lost"}, "invalid-status"),
            ({"cursor": "not-a-cursor"}, "invalid-cursor"),
            ({"since": "2026-11-28T10:00:00"}, "validation-failed"),
            # Past the calendar's ends once moved to UTC.
            ({"since": "0001-01-01T00:00:00+05:00"}, "validation-failed"),
            ({"since": "9999-12-31T23:00:00-05:00"}, "validation-failed"),
            # A hand-made cursor nested deeper than JSON parsers go.
            (
                {"cursor": base64.urlsafe_b64encode(b"[" * 3000).decode()},
                "invalid-cursor",
            ),
            (
                {"cursor": cursor_at("0001-01-01T00:00:00+05:00")},
                "invalid-cursor",
            ),
            ({"limit": 0}, "validation-failed"),
        ],
    )
    async def test_bad_parameters_are_named_problems(self, intake, params, problem):
        response = await intake.get("/v1/reports", params=params)
        assert response.status_code == 422
        assert response.json()["type"] == f"urn:mam:problem:{problem}"

    async def test_a_nul_in_the_query_is_a_400(self, intake):
        response = await intake.get("/v1/reports?category=pot%00hole")
        assert response.status_code == 400
        assert response.json()["type"] == "urn:mam:problem:nul-in-address"

    async def test_the_list_never_shows_reporters(self, intake):
        from tests.helpers import register_and_sign_in

        headers = await register_and_sign_in(
            intake, "ukryta@example.org", name="Ukryta Osoba"
        )
        await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        for accept in ("application/json", "application/geo+json"):
            text = (await intake.get("/v1/reports", headers={"Accept": accept})).text
            assert "ukryta@example.org" not in text
            assert "Ukryta Osoba" not in text


class TestMyReports:
    async def test_lists_only_my_reports_with_history(self, intake):
        from tests.helpers import register_and_sign_in

        mine = await register_and_sign_in(intake, "moje@example.org")
        other = await register_and_sign_in(intake, "cudze@example.org")
        own = [
            (await intake.post("/v1/reports", json=POTHOLE, headers=mine)).json()["id"]
            for _ in range(3)
        ]
        await intake.post("/v1/reports", json=POTHOLE, headers=other)
        await file(intake, POTHOLE)
        await deliver(intake, status_event(own[0], ReportStatus.IN_PROGRESS, 1))
        first = (
            await intake.get("/v1/me/reports", params={"limit": 2}, headers=mine)
        ).json()
        rest = (
            await intake.get(
                "/v1/me/reports", params={"cursor": first["next_cursor"]}, headers=mine
            )
        ).json()
        items = first["items"] + rest["items"]
        assert [i["id"] for i in items] == list(reversed(own))
        assert [h["status"] for h in items[-1]["status_history"]] == [
            "received",
            "in_progress",
        ]
        assert rest["next_cursor"] is None

    async def test_needs_a_signed_in_resident(self, intake):
        assert (await intake.get("/v1/me/reports")).status_code == 401
