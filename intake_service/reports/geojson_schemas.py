"""The shape of a report page as GeoJSON (RFC 7946), for the API's documentation.

`geojson.feature_collection` builds the page; these models only describe what it builds,
so that an app can read the map's answer from the document.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from intake_service.reports.schemas import Location, ReportSummary

_PROPERTIES_EXAMPLE: dict[str, Any] = {
    "id": "6f1c2b0e-3c1d-4a2b-9f3e-1d2c3b4a5e6f",
    "number": "WRO-2026-000042",
    "category": {"code": "pothole", "name": "Dziura w jezdni"},
    "location_source": "device",
    "description": "Głęboka dziura na prawym pasie przy przejściu.",
    "attributes": {},
    "status": "reopened",
    "status_name": "ponownie otwarte",
    "unit": {"code": "zdium", "name": "Zarząd Dróg i Utrzymania Miasta"},
    "created_at": "2026-12-01T10:00:00Z",
    "updated_at": "2026-12-01T11:30:00Z",
    "expected_resolution_at": "2026-12-08T10:00:00Z",
    "overdue": False,
    "supporters": 3,
    "photos": [],
    "reported_by": "Anna",
    "feedback": {"fixed": False},
}
_POINT_EXAMPLE: dict[str, Any] = {"type": "Point", "coordinates": [17.0326, 51.1097]}
_FEATURE_EXAMPLE: dict[str, Any] = {
    "type": "Feature",
    "id": _PROPERTIES_EXAMPLE["id"],
    "geometry": _POINT_EXAMPLE,
    "properties": _PROPERTIES_EXAMPLE,
}
FEATURE_COLLECTION_EXAMPLE: dict[str, Any] = {
    "type": "FeatureCollection",
    "features": [_FEATURE_EXAMPLE],
    "next_cursor": "WyIyMDI2LTEyLTAxVDA5OjAwOjAwKzAwOjAwIiwgIjFiMmMzZDRlLTVmNjAtNDcx"
    "OC05YTBiLTFjMmQzZTRmNWE2YiJd",
}
"""A page of one report, as `GET /v1/reports` answers it in `application/geo+json`
(without nulls: FastAPI leaves every null out of the document, examples included)."""


class PointGeometry(BaseModel):
    """Where a report is: a GeoJSON Point in WGS 84."""

    model_config = ConfigDict(json_schema_extra={"examples": [_POINT_EXAMPLE]})

    type: Literal["Point"] = Field(description="Always `Point`.")
    coordinates: tuple[float, float] = Field(
        description="`[longitude, latitude]`, in this order (RFC 7946): the report's "
        "`location` as `[lon, lat]`.",
        examples=[[17.0326, 51.1097]],
    )


class ReportFeatureProperties(ReportSummary):
    """The report as in the JSON page (`ReportSummary`), without `location`: the position
    is the feature's `geometry`."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PROPERTIES_EXAMPLE]})

    location: SkipJsonSchema[Location]


class ReportFeature(BaseModel):
    """One report on the map: its point and its public data."""

    model_config = ConfigDict(json_schema_extra={"examples": [_FEATURE_EXAMPLE]})

    type: Literal["Feature"] = Field(description="Always `Feature`.")
    id: uuid.UUID = Field(description="The report's id (as in `properties.id`).")
    geometry: PointGeometry
    properties: ReportFeatureProperties


class ReportFeatureCollection(BaseModel):
    """A page of `GET /v1/reports` for maps (`Accept: application/geo+json`): a GeoJSON
    FeatureCollection of points, newest report first, with the page's cursor as a member."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [FEATURE_COLLECTION_EXAMPLE]}
    )

    type: Literal["FeatureCollection"] = Field(
        description="Always `FeatureCollection`."
    )
    features: list[ReportFeature] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
