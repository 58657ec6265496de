"""Reports must lie inside the city's service area."""

import json
import math

import pytest
from sqlalchemy import func, select

from intake_service.area.service import DEFAULT_AREA_FILE, load_service_area
from intake_service.reports.models import Report
from tests.helpers import POTHOLE

AREA = load_service_area(DEFAULT_AREA_FILE, "Wrocław")
RING = json.loads(DEFAULT_AREA_FILE.read_text())["features"][0]["geometry"][
    "coordinates"
][0]


def beside_edge(index: int, metres: float) -> tuple[float, float]:
    """A point `metres` to the right of the middle of edge `index` (negative: to the left)."""
    (lon1, lat1), (lon2, lat2) = RING[index], RING[index + 1]
    mid_lat, mid_lon = (lat1 + lat2) / 2, (lon1 + lon2) / 2
    east = (lon2 - lon1) * 111_320 * math.cos(math.radians(mid_lat))
    north = (lat2 - lat1) * 110_540
    length = math.hypot(east, north)
    # Rotate the edge direction by -90°: its right-hand normal.
    normal_east, normal_north = north / length, -east / length
    return (
        mid_lat + normal_north * metres / 110_540,
        mid_lon + normal_east * metres / (111_320 * math.cos(math.radians(mid_lat))),
    )


class TestServiceArea:
    @pytest.mark.parametrize(
        ("lat", "lon"),
        [
            (51.1097, 17.0326),
            (51.1079, 17.0385),
            (51.0714, 16.9955),
            (51.1400, 17.1000),
        ],
    )
    def test_places_in_the_city_are_inside(self, lat, lon):
        assert AREA.covers(lat, lon)

    @pytest.mark.parametrize(
        ("lat", "lon"),
        [(52.2297, 21.0122), (51.2140, 17.3890), (50.0647, 19.9450), (0.0, 0.0)],
    )
    def test_other_places_are_outside(self, lat, lon):
        assert not AREA.covers(lat, lon)

    @pytest.mark.parametrize("edge", range(len(RING) - 1))
    def test_fifty_metres_either_side_of_every_edge(self, edge):
        # The inside of a clockwise ring lies to the right of each edge.
        inside = 1 if _clockwise() else -1
        assert AREA.covers(*beside_edge(edge, 50 * inside))
        assert not AREA.covers(*beside_edge(edge, -50 * inside))

    def test_a_vertex_counts_as_inside(self):
        lon, lat = RING[0]
        assert AREA.covers(lat, lon)


def _clockwise() -> bool:
    area = sum(
        (RING[i + 1][0] - RING[i][0]) * (RING[i + 1][1] + RING[i][1])
        for i in range(len(RING) - 1)
    )
    return area > 0


class TestReportOutsideTheCity:
    @pytest.mark.parametrize(
        ("lang", "words"),
        [
            ("pl", "poza obszarem"),
            ("en", "outside the area"),
            ("de", "außerhalb des Gebiets"),
        ],
    )
    async def test_is_refused_naming_the_city(
        self, intake, intake_session, lang, words
    ):
        warsaw = {"lat": 52.2297, "lon": 21.0122}
        response = await intake.post(
            "/v1/reports",
            json=POTHOLE | {"location": warsaw},
            headers={"Accept-Language": lang},
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["type"] == "urn:mam:problem:outside-service-area"
        assert words in problem["detail"]
        assert "Wrocław" in problem["detail"]
        assert (
            await intake_session.scalar(select(func.count()).select_from(Report)) == 0
        )


class TestLoadServiceArea:
    def test_a_feature_collection_of_several_polygons_is_their_union(self, tmp_path):
        square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
        far = [[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]
        path = tmp_path / "area.geojson"
        features = [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
            for ring in (square, far)
        ]
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        area = load_service_area(path, "Testowo")
        assert area.covers(0.5, 0.5)
        assert area.covers(5.5, 5.5)
        assert not area.covers(3, 3)

    def test_anything_but_a_polygon_is_refused_at_start(self, tmp_path):
        path = tmp_path / "point.geojson"
        path.write_text(json.dumps({"type": "Point", "coordinates": [17.03, 51.11]}))
        with pytest.raises(ValueError, match="Polygon"):
            load_service_area(path, "Wrocław")
