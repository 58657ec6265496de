"""Distances on the Earth's surface, good to a few metres at city scale (pure)."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEGREE_LAT = 111_132.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = (
        math.sin(d_phi / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def box_around(
    lat: float, lon: float, radius_m: float
) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a box that holds the circle, for an index scan."""
    d_lat = radius_m / _M_PER_DEGREE_LAT * 1.01
    d_lon = d_lat / max(math.cos(math.radians(lat)), 0.01)
    return lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon
