"""Loading the service area (GeoJSON) and checking positions against it (pure, no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shapely import prepare, union_all
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from intake_service.area.exceptions import OutsideServiceArea

DEFAULT_AREA_FILE = Path(__file__).with_name("wroclaw.geojson")


@dataclass(frozen=True)
class ServiceArea:
    city: str
    geometry: BaseGeometry

    def covers(self, lat: float, lon: float) -> bool:
        # GeoJSON is (longitude, latitude); a point on the boundary counts as inside.
        return bool(self.geometry.covers(Point(lon, lat)))

    def check(self, lat: float, lon: float) -> None:
        if not self.covers(lat, lon):
            raise OutsideServiceArea(city=self.city)


def load_service_area(path: Path, city: str) -> ServiceArea:
    """A Polygon or MultiPolygon, bare, as a Feature, or as the union of a FeatureCollection."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("type") == "FeatureCollection":
        geometries = [shape(feature["geometry"]) for feature in data["features"]]
        geometry = union_all(geometries)
    elif data.get("type") == "Feature":
        geometry = shape(data["geometry"])
    else:
        geometry = shape(data)
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or not geometry.is_valid:
        raise ValueError(f"{path}: the service area must be a valid (Multi)Polygon")
    prepare(geometry)
    return ServiceArea(city=city, geometry=geometry)
