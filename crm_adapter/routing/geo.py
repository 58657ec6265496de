"""Rule areas: checking a GeoJSON (Multi)Polygon and testing points against it (pure, no I/O)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from shapely import prepare
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from shared.i18n import N_

MAX_POSITIONS = 20_000
"""Most corner points one area may have (all rings together)."""


class AreaInvalid(ValueError):
    """Why an area cannot be used; `args[0]` is a msgid marked with `N_`."""


def _rings(area: Mapping[str, Any]) -> list[list[Any]]:
    kind, coordinates = area.get("type"), area.get("coordinates")
    polygons: list[Any]
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = coordinates if isinstance(coordinates, list) else []
    else:
        raise AreaInvalid(N_("An area is a GeoJSON Polygon or MultiPolygon."))
    if not polygons or not all(isinstance(p, list) and p for p in polygons):
        raise AreaInvalid(N_("The area has no polygon."))
    return [ring for polygon in polygons for ring in polygon]


Bounds = tuple[float, float, float, float]
"""West, south, east, north (degrees)."""


def _check_rings(rings: list[Any]) -> None:
    """Each ring closed, of at least four [longitude, latitude] positions on the earth."""
    positions = 0
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            raise AreaInvalid(
                N_("Each ring of the area needs at least four positions.")
            )
        for position in ring:
            if (
                not isinstance(position, list | tuple)
                or len(position) != 2
                or not all(
                    isinstance(c, int | float) and not isinstance(c, bool)
                    for c in position
                )
            ):
                raise AreaInvalid(
                    N_("Each position of the area is [longitude, latitude].")
                )
            lon, lat = position
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise AreaInvalid(
                    N_(
                        "A position of the area lies outside the earth's coordinates "
                        "(longitude -180 to 180, latitude -90 to 90; longitude first)."
                    )
                )
        if list(ring[0]) != list(ring[-1]):
            raise AreaInvalid(
                N_(
                    "A ring of the area is not closed: its last position must repeat its first."
                )
            )
        positions += len(ring)
    if positions > MAX_POSITIONS:
        raise AreaInvalid(N_("The area has too many positions (at most 20000)."))


def check_area(area: Mapping[str, Any], bounds: Bounds) -> None:
    """Raise `AreaInvalid` unless `area` is a valid, closed (Multi)Polygon in WGS 84, within
    `bounds`.

    Valid as the OGC defines it (no self-intersection, holes inside their shell, parts of a
    MultiPolygon not overlapping) and with some area: a zero-area shape covers no report.
    """
    _check_rings(_rings(area))
    geometry = shape(area)
    if not geometry.is_valid:
        raise AreaInvalid(
            N_(
                "The area is not a valid polygon: its edges cross, or a hole lies outside "
                "its shell, or parts of it overlap."
            )
        )
    if geometry.area == 0:
        raise AreaInvalid(N_("The area encloses nothing."))
    west, south, east, north = geometry.bounds
    if west < bounds[0] or south < bounds[1] or east > bounds[2] or north > bounds[3]:
        raise AreaInvalid(
            N_(
                "The area reaches outside the region this adapter serves ({bounds}). "
                "Are longitude and latitude swapped?"
            )
        )


def canonical(area: Mapping[str, Any]) -> str:
    """The area as a JSON text that is the same for the same area (a key for caches)."""
    return json.dumps(area, sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=512)
def _geometry(text: str) -> BaseGeometry:
    geometry = shape(json.loads(text))
    prepare(geometry)
    return geometry


def geometry_of(area: Mapping[str, Any]) -> BaseGeometry:
    """The prepared shape of an area; versions never change, so their shapes are cached."""
    return _geometry(canonical(area))


def covers(area: Mapping[str, Any], *, lat: float, lon: float) -> bool:
    # GeoJSON is (longitude, latitude); a point on the boundary counts as inside, as it does
    # for intake's service area.
    return bool(geometry_of(area).covers(Point(lon, lat)))


def same_area(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two areas cover the same ground (however their rings start or turn)."""
    return bool(geometry_of(a).equals(geometry_of(b)))
