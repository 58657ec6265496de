"""Report pages as GeoJSON (RFC 7946) for maps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from intake_service.reports.schemas import ReportSummary

GEOJSON = "application/geo+json"


def feature_collection(
    items: Sequence[ReportSummary], next_cursor: str | None
) -> dict[str, Any]:
    features = []
    for item in items:
        properties = item.model_dump(mode="json", exclude={"location"})
        features.append(
            {
                "type": "Feature",
                "id": str(item.id),
                "geometry": {
                    "type": "Point",
                    "coordinates": [item.location.lon, item.location.lat],
                },
                "properties": properties,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "next_cursor": next_cursor,
    }
