"""The look-up of open reports near a position, nearest first (the duplicates hint and
GET /v1/reports/nearby), on PostgreSQL's index and on SQLite; never commits."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.reports.geo import box_around, distance_m
from intake_service.reports.models import Nearby, Report
from shared.contracts import ReportStatus

OPEN_STATUSES = [s.value for s in ReportStatus if not s.is_closed]


def plane_point(lat: Any, lon: Any) -> Any:
    """A position on a plane where, at city scale, a degree of longitude is as long as one
    of latitude: `<->` between two such points orders by distance."""
    return func.point(lon * func.cos(func.radians(lat)), lat)


_NEARBY_COLUMNS = (
    Report.id,
    Report.number,
    Report.status,
    Report.created_at,
    Report.description,
    Report.description_hidden_at,
    Report.lat,
    Report.lon,
)
_SAME_CATEGORY = Report.category_code == bindparam("category")
_NEARBY_MATCH = Report.created_at >= bindparam("since")
# Written out, not bound: PostgreSQL uses the partial index only for these values.
_OPEN = Report.status.in_(bindparam("open", OPEN_STATUSES, literal_execute=True))
_PLANE_POINT = plane_point(Report.lat, Report.lon)
# Built once: filing a report only binds values to them.
_PLANE_CENTRE = func.point(bindparam("x"), bindparam("y"))
_NEARBY_PLANE = (
    # The nearest open reports of the category within a circle on the plane, straight
    # from the index (a filter on anything else would let the planner sort a whole
    # neighbourhood instead); `match` tells which count.
    select(*_NEARBY_COLUMNS, _NEARBY_MATCH.label("match"))
    .where(
        _OPEN,
        _SAME_CATEGORY,
        _PLANE_POINT.op("<@")(func.circle(_PLANE_CENTRE, bindparam("reach"))),
    )
    .order_by(_PLANE_POINT.op("<->")(_PLANE_CENTRE))
    .limit(bindparam("limit"))
)
_IN_NEARBY_BOX = (
    _OPEN,
    _SAME_CATEGORY,
    _NEARBY_MATCH,
    Report.lat.between(bindparam("lat_min"), bindparam("lat_max")),
    Report.lon.between(bindparam("lon_min"), bindparam("lon_max")),
)
_NEARBY_BAND = (
    select(*_NEARBY_COLUMNS)
    .where(*_IN_NEARBY_BOX)
    .order_by(
        (Report.lat - bindparam("lat")) * (Report.lat - bindparam("lat"))
        + (Report.lon - bindparam("lon"))
        * (Report.lon - bindparam("lon"))
        * bindparam("scale2")
    )
    .limit(bindparam("limit"))
)
SQLITE_CAP = 100
"""Rows of the radius's box SQLite sorts at most; a box holding more is searched in
smaller boxes first."""
_IN_BOX = (
    select(*_NEARBY_COLUMNS).where(*_IN_NEARBY_BOX).limit(SQLITE_CAP).subquery("in_box")
)
_NEARBY_CAPPED = (
    # At most SQLITE_CAP of the box's rows, nearest first; `seen` tells how many were read.
    select(*_IN_BOX.c, func.count().over().label("seen"))
    .order_by(
        (_IN_BOX.c.lat - bindparam("lat")) * (_IN_BOX.c.lat - bindparam("lat"))
        + (_IN_BOX.c.lon - bindparam("lon"))
        * (_IN_BOX.c.lon - bindparam("lon"))
        * bindparam("scale2")
    )
    .limit(bindparam("limit"))
)


async def _nearest_in_boxes(
    session: AsyncSession,
    values: dict[str, Any],
    *,
    lat: float,
    lon: float,
    radius_m: float,
) -> list[Any]:
    """The nearest rows within `radius_m` on SQLite, which has no nearest-first index.

    The radius's box is read first, up to SQLITE_CAP rows: where it holds fewer, they are
    all there is to sort. Where it holds more (a crowded spot), boxes from a 32nd of
    the radius, four times larger each time, are searched until one holds `limit` reports
    within its own reach, so that the rows sorted stay few however many are close.
    """
    scale = math.cos(math.radians(lat))
    values = values | {"lat": lat, "lon": lon, "scale2": scale * scale}

    def box(reach: float) -> dict[str, float]:
        min_lat, max_lat, min_lon, max_lon = box_around(lat, lon, reach)
        return {
            "lat_min": min_lat,
            "lat_max": max_lat,
            "lon_min": min_lon,
            "lon_max": max_lon,
        }

    capped = (await session.execute(_NEARBY_CAPPED, values | box(radius_m))).all()
    if not capped or capped[0].seen < SQLITE_CAP:
        return list(capped)
    reach = radius_m / 32
    while reach < radius_m:
        rows = (await session.execute(_NEARBY_BAND, values | box(reach))).all()
        within = [
            row for row in rows if distance_m(lat, lon, row.lat, row.lon) <= reach
        ]
        if len(within) >= values["limit"]:
            return within
        reach *= 4
    return list((await session.execute(_NEARBY_BAND, values | box(radius_m))).all())


async def open_nearby(
    session: AsyncSession,
    *,
    category: str,
    lat: float,
    lon: float,
    radius_m: float,
    since: dt.datetime,
    limit: int,
) -> list[Nearby]:
    """Open reports of `category` within `radius_m`, filed since `since`, nearest first.

    Only a few rows more than `limit` are read however many reports are close: on
    PostgreSQL the partial GiST index `ix_reports_open_plane_point` yields the category's
    open reports nearest first; on SQLite the index on (category, latitude) narrows them to
    a band, in boxes that shrink where many are close (`_nearest_in_boxes`).
    """
    values: dict[str, Any] = {
        "category": category,
        "since": since,
        "limit": limit,
    }
    if session.get_bind().dialect.name == "postgresql":
        rows = await _nearest_on_plane(
            session, values, lat=lat, lon=lon, radius_m=radius_m
        )
    else:
        rows = await _nearest_in_boxes(
            session, values, lat=lat, lon=lon, radius_m=radius_m
        )
    near = sorted(
        (
            Nearby(
                id=row.id,
                number=row.number,
                status=row.status,
                created_at=row.created_at,
                description=row.description,
                distance_m=distance_m(lat, lon, row.lat, row.lon),
                description_hidden=row.description_hidden_at is not None,
            )
            for row in rows
        ),
        key=lambda found: found.distance_m,
    )
    return [found for found in near if found.distance_m <= radius_m][:limit]


_M_PER_DEGREE = 111_195.0  # metres in a degree of latitude, on a sphere
OVERSAMPLE = 8
"""How many times more rows than asked for a plane look-up reads at first."""


async def _nearest_on_plane(
    session: AsyncSession,
    values: dict[str, Any],
    *,
    lat: float,
    lon: float,
    radius_m: float,
) -> list[Any]:
    """The matching rows among enough of the category's nearest open reports on the plane
    that the true nearest matching ones within `radius_m` are among them.

    The plane shears distances a little (by up to a fourth at Polish longitudes), so its
    order is not quite the true one. A row not read lies at least as far on the plane as
    the last row read, and so at least that far divided by the largest stretch on Earth.
    Reading stops once that is beyond the radius, or the `limit`-th nearest match read is
    closer; otherwise eight times as many rows are read.
    """
    limit = values["limit"]
    x, y = lon * math.cos(math.radians(lat)), lat
    # The plane's local map from (east, north) in degrees of latitude is [[1, -s], [0, 1]].
    s = abs(lon) * math.sin(math.radians(lat)) * math.pi / 180
    stretch = math.sqrt(1 + s * s / 2 + s * math.sqrt(1 + s * s / 4)) * 1.01
    # No report within `radius_m` lies farther on the plane than this.
    circle = radius_m / _M_PER_DEGREE * stretch
    asked = limit * OVERSAMPLE
    while True:
        read = (
            await session.execute(
                _NEARBY_PLANE,
                values | {"x": x, "y": y, "reach": circle, "limit": asked},
            )
        ).all()
        matches = [row for row in read if row.match]
        if len(read) < asked:
            return matches  # every open report of the category in the circle was read
        last = read[-1]
        plane = math.hypot(
            last.lon * math.cos(math.radians(last.lat)) - x, last.lat - y
        )
        reach = plane * _M_PER_DEGREE / stretch
        nearest = sorted(distance_m(lat, lon, row.lat, row.lon) for row in matches)
        if reach > radius_m or (len(nearest) >= limit and nearest[limit - 1] <= reach):
            return matches
        asked *= OVERSAMPLE
