"""Filing a report and reading it back."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.area.service import ServiceArea
from intake_service.categories import service as categories
from intake_service.categories.attributes import check_attributes
from intake_service.categories.models import Category
from intake_service.db import OutboxEvent
from intake_service.devices import device_to_count
from intake_service.idempotency import service as idempotency
from intake_service.idempotency.exceptions import IdempotentRequestInProgress
from intake_service.idempotency.models import IdempotencyRecord
from intake_service.idempotency.service import IdempotentRequest
from intake_service.photos.service import NewPhoto, Photos
from intake_service.photos.upload import Upload, location_missing
from intake_service.reports import repository
from intake_service.reports.exceptions import (
    InvalidBox,
    InvalidStatus,
    ReportClosed,
    ReportNotFound,
    UnknownCategory,
)
from intake_service.reports.models import Listed, Nearby, Report, ReportStatusChange
from intake_service.reports.schemas import (
    Location,
    LocationSource,
    ReportCreate,
    ReportCreated,
)
from shared.contracts import (
    Envelope,
    GeoPoint,
    ReporterContact,
    ReportStatus,
    ReportSubmittedV1,
)
from shared.db import table_of, utcnow
from shared.outbox import RELAY, event_row
from shared.pagination import PageKey, decode_cursor, encode_cursor
from shared.sla import due_at
from shared.wakeup import wake_after_commit


@dataclass(frozen=True)
class Submitted:
    """The answer to a report submission; `replayed` when it is the answer to an earlier one."""

    body: dict[str, Any]
    replayed: bool


async def submit_report(
    session: AsyncSession,
    *,
    data: ReportCreate,
    uploads: Sequence[Upload] = (),
    photos: Photos,
    reporter: Account | None,
    number_prefix: str,
    area: ServiceArea,
    lang: str,
    idempotency_key: str | None,
    contact: ReporterContact | None = None,
    channel: str = "POST /v1/reports",
) -> Submitted:
    """Store the report, its photos, its hand-over event and the answer under the idempotency
    key; a retry with the same key gets the first answer and creates nothing.

    Photos are decoded with no transaction open (on SQLite an open one would hold the
    database's write lock for seconds) and written to storage before the report's rows are
    committed: a crash in between leaves an orphan file, never a report without its photo.
    """
    request = None
    if idempotency_key is not None:
        request = IdempotentRequest(
            scope=f"{reporter.id if reporter else 'anonymous'} {channel}",
            key=idempotency.parse_key(idempotency_key),
            fingerprint=_fingerprint(data, uploads),
        )
        if (stored := await idempotency.find_answer(session, request)) is not None:
            return Submitted(body=stored.body, replayed=True)
    category = await _active_category(session, data.category)
    attributes = check_attributes(category.attributes, data.attributes)
    if data.location is not None:
        area.check(data.location.lat, data.location.lon)
    new_photos: list[NewPhoto] = []
    location, location_source = data.location, LocationSource.DEVICE
    if uploads:
        # Ends the checks' transaction; nothing was written, and nothing loaded is expired.
        await session.commit()
        new_photos = await photos.process(uploads)
        if location is None:
            location, location_source = (
                _location_from(new_photos[0]),
                LocationSource.PHOTO,
            )
            area.check(location.lat, location.lon)
        await photos.store(new_photos)
    if location is None:
        raise location_missing()
    committing = False
    try:
        # Another request with the same key may have finished while photos were decoded.
        if (
            uploads
            and request is not None
            and (stored := await idempotency.find_answer(session, request))
        ):
            await photos.discard(new_photos)
            return Submitted(body=stored.body, replayed=True)
        report, event = await _new_report(
            session,
            data=data,
            category=category,
            attributes=attributes,
            location=location,
            location_source=location_source,
            photos=new_photos,
            reporter=reporter,
            number_prefix=number_prefix,
            contact=contact,
        )
        duplicates = await find_open_nearby(
            session, category=report.category, lat=report.lat, lon=report.lon
        )
        body = ReportCreated.created(report, lang, duplicates=duplicates).model_dump(
            mode="json"
        )
        also = [(table_of(OutboxEvent), [event])]
        if request is not None:
            answer = idempotency.answer_row(
                request, status=201, body=body, resource_id=report.id
            )
            also.append((table_of(IdempotencyRecord), [answer]))
        await repository.insert_new(session, report, also=also)
        wake_after_commit(session, RELAY)
        committing = True
        await session.commit()
    except IntegrityError:
        # On PostgreSQL a concurrent request with the same key committed first.
        await session.rollback()
        await photos.discard(new_photos)
        if request is None:
            raise
        if (stored := await idempotency.find_answer(session, request)) is None:
            raise IdempotentRequestInProgress() from None
        return Submitted(body=stored.body, replayed=True)
    except BaseException:
        # After a failed commit the rows may still have been stored: keep the files then.
        if not committing:
            await photos.discard(new_photos)
        raise
    return Submitted(body=body, replayed=False)


def _fingerprint(data: ReportCreate, uploads: Sequence[Upload]) -> str:
    report = data.model_dump(mode="json")
    if not uploads:
        return idempotency.fingerprint(report)
    return idempotency.fingerprint(
        {"report": report, "photos": [upload.sha256 for upload in uploads]}
    )


def _location_from(photo: NewPhoto) -> Location:
    if photo.processed.gps is None:
        raise location_missing()
    lat, lon = photo.processed.gps
    return Location(lat=lat, lon=lon)


async def _active_category(session: AsyncSession, code: str) -> Category:
    category = await categories.get_active_copy(session, code)
    if category is None:
        raise UnknownCategory(category=code)
    return category


async def _new_report(
    session: AsyncSession,
    *,
    data: ReportCreate,
    category: Category,
    attributes: dict[str, Any],
    location: Location,
    location_source: LocationSource,
    photos: Sequence[NewPhoto],
    reporter: Account | None,
    number_prefix: str,
    contact: ReporterContact | None = None,
) -> tuple[Report, dict[str, Any]]:
    """The new report (not written yet; the object only shapes the answer and never joins
    the session, its category being the process's shared copy) and its outbox row."""
    now = utcnow()
    serial = await repository.next_number(session, now.year)
    report_id = uuid.uuid4()
    target = category.resolution_target
    # Only with consent, and only an address the resident proved is theirs (or the contact an
    # Open311 client sent for the CRM).
    contact = contact or (
        ReporterContact(
            name=reporter.display_name, email=reporter.email, lang=reporter.lang
        )
        if data.share_contact
        and reporter is not None
        and reporter.email_verified_at is not None
        else None
    )
    report = Report(
        id=report_id,
        number=f"{number_prefix}-{now.year}-{serial:06d}",
        category=category,
        category_code=category.code,
        lat=location.lat,
        lon=location.lon,
        location_source=location_source,
        description=data.description,
        attributes=attributes,
        reporter_id=reporter.id if reporter else None,
        reporter=reporter,
        show_name=data.show_name and reporter is not None,
        share_contact=contact is not None,
        status=ReportStatus.RECEIVED,
        status_sequence=0,
        supporters_count=0,
        created_at=now,
        updated_at=now,
        # The adapter computes the case's due time from the same target and time.
        expected_resolution_at=due_at(
            now,
            hours=target.hours,
            working_days=target.working_days,
        ),
        unit=None,
        photos=[
            photo.row(report_id, position, now) for position, photo in enumerate(photos)
        ],
        history=[
            ReportStatusChange(
                report_id=report_id,
                status=ReportStatus.RECEIVED,
                sequence=0,
                changed_at=now,
            )
        ],
    )
    event = ReportSubmittedV1(
        report_id=report.id,
        number=report.number,
        category=category.code,
        location=GeoPoint(lat=report.lat, lon=report.lon),
        description=report.description,
        attributes=report.attributes,
        photo_ids=[photo.id for photo in photos],
        reporter_contact=contact,
        submitted_at=now,
        resolution_target=target,
    )
    envelope = Envelope(occurred_at=now, source="intake", event=event)
    return report, event_row(envelope, aggregate_id=report.id)


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
    return await repository.open_nearby(
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


def parse_box(bbox: str) -> repository.Box:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in bbox.split(","))
    except ValueError as exc:
        raise InvalidBox() from exc
    box = repository.Box(
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
    filters = repository.Filters(
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
        await repository.list_public(session, filters, limit=limit + 1), limit
    )


async def list_own_reports(
    session: AsyncSession, *, reporter: Account, cursor: str | None, limit: int
) -> tuple[list[Report], str | None]:
    """One page of the resident's own reports, newest first, and the next page's cursor."""
    reports = await repository.list_own(
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
    if ReportStatus(report.status).is_closed:
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
