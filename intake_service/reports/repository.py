"""Queries on reports; never commits."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.categories.service import catalog
from intake_service.photos.models import Photo
from intake_service.reports.geo import box_around, distance_m
from intake_service.reports.models import (
    Listed,
    ListedPhoto,
    ListedReporter,
    Nearby,
    Report,
    ReportCounter,
    ReportStatusChange,
    ReportSupporter,
)
from shared.contracts import ReportStatus
from shared.db import (
    database_of,
    insert_rows,
    row_of,
    table_of,
    upsert_insert,
    utcnow,
)
from shared.pagination import PageKey

# Years whose number sequence exists, per database (PostgreSQL only).
_sequences: set[tuple[URL, int]] = set()


async def next_number(session: AsyncSession, year: int) -> int:
    """The next report number of `year`, unique and increasing.

    On PostgreSQL a sequence per year hands it out without a lock, so reports filed at the
    same moment do not wait for each other's commits (a number can be skipped when a filing
    fails after taking it). On SQLite, where writers take turns anyway, a counter row does.
    """
    if session.get_bind().dialect.name == "postgresql":
        name = await _year_sequence(session, year)
        sequence = await session.scalar(text(f"SELECT nextval('{name}')"))
        return int(sequence)
    await session.execute(
        upsert_insert(session, ReportCounter)
        .values(year=year, last=0)
        .on_conflict_do_nothing()
    )
    number: int | None = await session.scalar(
        update(ReportCounter)
        .where(ReportCounter.year == year)
        .values(last=ReportCounter.last + 1)
        .returning(ReportCounter.last)
    )
    assert number is not None
    return number


async def _year_sequence(session: AsyncSession, year: int) -> str:
    """The name of `year`'s number sequence, created in the caller's transaction if new.

    A new sequence goes on from the year's counter row, which numbered reports before
    sequences did. It is remembered only once it is seen committed: a creating transaction
    may still roll back.
    """
    name = f"report_number_{year:04d}"
    known = (database_of(session), year)
    if known in _sequences:
        return name
    # One creator at a time (CREATE ... IF NOT EXISTS is not safe side by side); the others
    # wait for its commit and then find the sequence.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('report_number_sequences'))")
    )
    if await session.scalar(text("SELECT to_regclass(:name)"), {"name": name}):
        _sequences.add(known)
        return name
    last = await session.scalar(
        select(ReportCounter.last).where(ReportCounter.year == year)
    )
    await session.execute(text(f"CREATE SEQUENCE {name} START WITH {(last or 0) + 1}"))
    return name


async def insert_new(
    session: AsyncSession,
    report: Report,
    *,
    also: Sequence[tuple[Table, Sequence[dict[str, Any]]]] = (),
) -> None:
    """Write a new report with its photos and first history row, and the rows of `also`
    (its outbox event, its idempotency record), without the unit of work: nothing is read
    back, and `report` stays out of the session."""
    await insert_rows(
        session,
        [
            (table_of(Report), [row_of(report)]),
            (table_of(Photo), [row_of(photo) for photo in report.photos]),
            (
                table_of(ReportStatusChange),
                [row_of(change) for change in report.history],
            ),
            *also,
        ],
    )


async def get(
    session: AsyncSession, report_id: uuid.UUID, *, for_update: bool = False
) -> Report | None:
    query = select(Report).where(Report.id == report_id)
    if for_update:
        query = query.with_for_update(of=Report)
    return await session.scalar(query)


@dataclass(frozen=True)
class Box:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


@dataclass(frozen=True)
class Filters:
    """What a page of reports is chosen by; newest first, after `after`."""

    box: Box | None = None
    categories: Sequence[str] = ()
    statuses: Sequence[str] = ()
    since: dt.datetime | None = None
    after: PageKey | None = None


def _page(query: Select[Any], filters: Filters, limit: int) -> Select[Any]:
    if (box := filters.box) is not None:
        query = query.where(
            Report.lat.between(box.min_lat, box.max_lat),
            Report.lon.between(box.min_lon, box.max_lon),
        )
    if filters.categories:
        query = query.where(Report.category_code.in_(filters.categories))
    if filters.statuses:
        query = query.where(Report.status.in_(filters.statuses))
    if filters.since is not None:
        query = query.where(Report.updated_at >= filters.since)
    if (after := filters.after) is not None:
        query = query.where(
            or_(
                Report.created_at < after.created_at,
                and_(Report.created_at == after.created_at, Report.id < after.id),
            )
        )
    return query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)


async def list_own(
    session: AsyncSession, reporter_id: uuid.UUID, *, after: PageKey | None, limit: int
) -> list[Report]:
    """A page of the resident's own reports, newest first, with their history."""
    query = select(Report).where(Report.reporter_id == reporter_id)
    return list(
        (await session.scalars(_page(query, Filters(after=after), limit))).all()
    )


_LISTED = select(
    Report.id,
    Report.number,
    Report.category_code,
    Report.unit_code,
    Report.lat,
    Report.lon,
    Report.location_source,
    Report.description,
    Report.attributes,
    Report.status,
    Report.created_at,
    Report.updated_at,
    Report.expected_resolution_at,
    Report.supporters_count,
    Report.feedback_fixed,
    Report.show_name,
    Account.display_name,
    Account.email_verified_at,
).outerjoin(Account, and_(Account.id == Report.reporter_id, Report.show_name))
# A box is planned for its own edges: a plan made once for any box (PostgreSQL's generic
# plan, which it soon prefers for a prepared statement) reads the whole box and sorts it,
# where walking the newest reports finds a page in a dense box at once. Edges written into
# the statement instead would make every box a new prepared statement for the process to
# keep, and its garbage collector to walk.
_PLAN_EACH_BOX = text("SET LOCAL plan_cache_mode = force_custom_plan")
_LISTED_PHOTOS = (
    select(Photo.report_id, Photo.id, Photo.width, Photo.height)
    .where(Photo.report_id.in_(bindparam("ids", expanding=True)))
    .order_by(Photo.report_id, Photo.position)
)


async def list_public(
    session: AsyncSession, filters: Filters, *, limit: int
) -> list[Listed]:
    """A page of reports, newest first, as anyone may see them."""
    if filters.box is not None and session.get_bind().dialect.name == "postgresql":
        await session.execute(_PLAN_EACH_BOX)
    rows = (await session.execute(_page(_LISTED, filters, limit))).all()
    photos: dict[uuid.UUID, list[ListedPhoto]] = {row[0]: [] for row in rows}
    if rows:
        found = await session.execute(_LISTED_PHOTOS, {"ids": list(photos)})
        for report_id, photo_id, width, height in found:
            photos[report_id].append(ListedPhoto(photo_id, width, height))
    known = await catalog(session)
    if any(
        category_code not in known.categories
        or (unit_code is not None and unit_code not in known.units)
        for _, _, category_code, unit_code, *_ in rows
    ):
        known = await catalog(session, reread=True)  # added since the copy was read
    listed = []
    for (
        report_id,
        number,
        category_code,
        unit_code,
        lat,
        lon,
        location_source,
        description,
        attributes,
        status,
        created_at,
        updated_at,
        expected_resolution_at,
        supporters_count,
        feedback_fixed,
        show_name,
        display_name,
        email_verified_at,
    ) in rows:  # by position: a Row's names are looked up slowly
        listed.append(
            Listed(
                id=report_id,
                number=number,
                category=known.categories[category_code],
                unit=None if unit_code is None else known.units[unit_code],
                lat=lat,
                lon=lon,
                location_source=location_source,
                description=description,
                attributes=attributes,
                status=status,
                created_at=created_at,
                updated_at=updated_at,
                expected_resolution_at=expected_resolution_at,
                supporters_count=supporters_count,
                feedback_fixed=feedback_fixed,
                show_name=show_name,
                reporter=None
                if display_name is None
                else ListedReporter(display_name, email_verified_at),
                photos=photos[report_id],
            )
        )
    return listed


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


async def followers(session: AsyncSession, report: Report) -> list[Account]:
    """Who hears about the report's changes: its named reporter and its named supporters,
    once their e-mail address is verified."""
    supporters = select(ReportSupporter.account_id).where(
        ReportSupporter.report_id == report.id, ReportSupporter.account_id.is_not(None)
    )
    query = select(Account).where(
        or_(Account.id == report.reporter_id, Account.id.in_(supporters)),
        Account.email_verified_at.is_not(None),
    )
    return list((await session.scalars(query)).all())


async def add_supporter(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    account_id: uuid.UUID | None,
    device_id: str | None,
) -> bool:
    """Record the support unless this account or device gave it before; True when new."""
    statement = (
        upsert_insert(session, ReportSupporter)
        .values(
            report_id=report_id,
            account_id=account_id,
            device_id=device_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(ReportSupporter.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None
