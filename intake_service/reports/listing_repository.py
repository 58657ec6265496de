"""The public list and map queries on reports, and the resident's own list: keyset pages,
newest first; never commits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.categories.service import Catalog, catalog
from intake_service.photos.models import Photo
from intake_service.reports.models import Listed, ListedPhoto, ListedReporter, Report
from shared.pagination import PageKey


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
    Report.description_hidden_at,
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
    # Those the moderators hid are no one's to see here.
    .where(
        Photo.report_id.in_(bindparam("ids", expanding=True)), Photo.hidden_at.is_(None)
    )
    .order_by(Photo.report_id, Photo.position)
)


async def list_public(
    session: AsyncSession, filters: Filters, *, limit: int
) -> list[Listed]:
    """A page of reports, newest first, as anyone may see them."""
    if filters.box is not None and session.get_bind().dialect.name == "postgresql":
        await session.execute(_PLAN_EACH_BOX)
    rows = (await session.execute(_page(_LISTED, filters, limit))).all()
    photos = await _photos_of(session, [row[0] for row in rows])
    known = await _catalog_naming(session, [(row[2], row[3]) for row in rows])
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
        description_hidden_at,
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
                description_hidden_at=description_hidden_at,
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


async def _catalog_naming(
    session: AsyncSession, codes: Sequence[tuple[str, str | None]]
) -> Catalog:
    """The copy of the categories and units that has each (category, unit) of `codes`."""
    known = await catalog(session)
    if any(
        category_code not in known.categories
        or (unit_code is not None and unit_code not in known.units)
        for category_code, unit_code in codes
    ):
        known = await catalog(session, reread=True)  # added since the copy was read
    return known


async def _photos_of(
    session: AsyncSession, report_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ListedPhoto]]:
    """The photos of each of the reports (an empty list for one without), in order."""
    photos: dict[uuid.UUID, list[ListedPhoto]] = {
        report_id: [] for report_id in report_ids
    }
    if report_ids:
        found = await session.execute(_LISTED_PHOTOS, {"ids": list(photos)})
        for report_id, photo_id, width, height in found:
            photos[report_id].append(ListedPhoto(photo_id, width, height))
    return photos
