"""Reading reports back (one, pages of them, open ones nearby), "me too", and the reporter's
choice to show their name; filing one is in `filing`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.categories import service as categories
from intake_service.categories.models import Category
from intake_service.devices import device_to_count
from intake_service.reports import (
    listing_repository,
    nearby_repository,
    repository,
)
from intake_service.reports.exceptions import (
    InvalidBox,
    InvalidStatus,
    ReportClosed,
    ReportNotFound,
    UnknownCategory,
)
from intake_service.reports.models import Listed, Nearby, Report
from shared.contracts import (
    ReportStatus,
)
from shared.db import utcnow
from shared.pagination import PageKey, decode_cursor, encode_cursor


async def get_report(session: AsyncSession, report_id: uuid.UUID) -> Report:
    report = await repository.get(session, report_id)
    if report is None:
        raise ReportNotFound()
    return report


DUPLICATE_WINDOW = dt.timedelta(days=30)
MAX_DUPLICATES = 5


async def find_open_nearby(
    session: AsyncSession,
    *,
    category: Category,
    lat: float,
    lon: float,
) -> list[Nearby]:
    """Open reports of the category within its duplicate radius, last 30 days, nearest first."""
    return await nearby_repository.open_nearby(
        session,
        category=category.code,
        lat=lat,
        lon=lon,
        radius_m=category.duplicate_radius_m,
        since=utcnow() - DUPLICATE_WINDOW,
        limit=MAX_DUPLICATES,
    )


async def nearby(
    session: AsyncSession, *, category_code: str, lat: float, lon: float
) -> list[Nearby]:
    category = await categories.get_active(session, category_code)
    if category is None:
        raise UnknownCategory(category=category_code)
    return await find_open_nearby(session, category=category, lat=lat, lon=lon)


def parse_box(bbox: str) -> listing_repository.Box:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in bbox.split(","))
    except ValueError as exc:
        raise InvalidBox() from exc
    box = listing_repository.Box(
        min_lat=min_lat, max_lat=max_lat, min_lon=min_lon, max_lon=max_lon
    )
    if not (-90 <= min_lat <= max_lat <= 90 and -180 <= min_lon <= max_lon <= 180):
        raise InvalidBox()
    return box


def parse_statuses(values: Sequence[str]) -> list[str]:
    statuses = [
        part.strip() for value in values for part in value.split(",") if part.strip()
    ]
    allowed = {s.value for s in ReportStatus}
    if not set(statuses) <= allowed:
        raise InvalidStatus(allowed=", ".join(sorted(allowed)))
    return statuses


async def list_reports(
    session: AsyncSession,
    *,
    bbox: str | None,
    category_codes: Sequence[str],
    statuses: Sequence[str],
    since: dt.datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Listed], str | None]:
    """One page of reports, newest first, and the cursor of the next page (None at the end)."""
    filters = listing_repository.Filters(
        box=parse_box(bbox) if bbox else None,
        categories=[
            part.strip()
            for value in category_codes
            for part in value.split(",")
            if part.strip()
        ],
        statuses=parse_statuses(statuses),
        since=since,
        after=decode_cursor(cursor) if cursor else None,
    )
    return _paged(
        await listing_repository.list_public(session, filters, limit=limit + 1), limit
    )


async def list_own_reports(
    session: AsyncSession, *, reporter: Account, cursor: str | None, limit: int
) -> tuple[list[Report], str | None]:
    """One page of the resident's own reports, newest first, and the next page's cursor."""
    reports = await listing_repository.list_own(
        session,
        reporter.id,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    return _paged(reports, limit)


_Page = TypeVar("_Page", Report, Listed)


def _paged(found: list[_Page], limit: int) -> tuple[list[_Page], str | None]:
    """`found`: up to `limit + 1` reports; the page, and the cursor after it if more."""
    page, more = found[:limit], len(found) > limit
    next_cursor = (
        encode_cursor(PageKey(page[-1].created_at, page[-1].id)) if more else None
    )
    return page, next_cursor


async def support_report(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    account: Account | None,
    device_id: str | None,
) -> tuple[Report, bool]:
    """Count a "me too" once per account (or device); returns the report and whether it is new.

    A named supporter is told about the report's changes from now on, like its reporter.
    """
    device = device_to_count(account, device_id)
    report = await repository.get(session, report_id, for_update=True)
    if report is None:
        raise ReportNotFound()
    if report.status.is_closed:
        raise ReportClosed()
    if account is not None and account.id == report.reporter_id:
        return report, False  # the reporter's own report counts them already
    added = await repository.add_supporter(
        session,
        report_id=report.id,
        account_id=account.id if account else None,
        device_id=device,
    )
    if added:
        report.supporters_count += 1
    await session.commit()
    return report, added


async def set_show_name(
    session: AsyncSession, *, report_id: uuid.UUID, reporter: Account, show_name: bool
) -> Report:
    """Show or hide the reporter's name on their report; others' reports are not found."""
    report = await repository.get(session, report_id, for_update=True)
    if report is None or report.reporter_id != reporter.id:
        raise ReportNotFound()
    report.show_name = show_name
    await session.commit()
    return report
