"""Filing a report: its checks, its photos, its rows and hand-over event, and the answer kept
under the client's idempotency key.

`submit_report` takes a `Submission` (the report as a client sent it, with who sent it and
how) and answers `Submitted` (the created report's public view, or the first answer again
on a retry); the routers serialize it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.area.service import ServiceArea
from intake_service.categories import service as categories
from intake_service.categories.attributes import check_attributes
from intake_service.categories.models import Category
from intake_service.db import OutboxEvent
from intake_service.idempotency import service as idempotency
from intake_service.idempotency.exceptions import IdempotentRequestInProgress
from intake_service.idempotency.models import IdempotencyRecord
from intake_service.idempotency.service import IdempotentRequest
from intake_service.photos.service import NewPhoto, Photos
from intake_service.photos.upload import Upload, location_missing
from intake_service.reports import repository
from intake_service.reports.exceptions import UnknownCategory
from intake_service.reports.models import Report, ReportStatusChange
from intake_service.reports.schemas import (
    Location,
    LocationSource,
    ReportCreate,
    ReportCreated,
)
from intake_service.reports.service import find_open_nearby
from shared.contracts import (
    Envelope,
    GeoPoint,
    ReporterContact,
    ReportStatus,
    ReportSubmittedV1,
)
from shared.db import table_of, utcnow
from shared.outbox import RELAY, event_row
from shared.sla import Calendar, due_at
from shared.wakeup import wake_after_commit

WithReport = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]
"""Adds rows to the filing's transaction, given the new report's id."""


@dataclass(frozen=True)
class Submission:
    """A report as a client sent it: its fields and photos, who sent it (None: anonymous)
    and in which language the answer is, the idempotency key of the request if any, the
    contact an Open311 client passed for the CRM, the operation it came through (the
    idempotency key's scope) and its channel (`app` or `open311`, kept on the report)."""

    data: ReportCreate
    reporter: Account | None
    lang: str
    uploads: Sequence[Upload] = ()
    idempotency_key: str | None = None
    contact: ReporterContact | None = None
    channel: str = "POST /v1/reports"
    source: Literal["app", "open311"] = "app"
    with_report: WithReport | None = None
    """Writes what belongs with the new report (an Open311 request's photo links) in the
    transaction that stores it, before it commits; not called for a replayed answer."""


@dataclass(frozen=True)
class Submitted:
    """The answer to a report submission; `replayed` when it is the answer to an earlier one."""

    report: ReportCreated
    replayed: bool


@dataclass(frozen=True)
class _Placed:
    """Where the report is, how that is known, and its processed photos."""

    location: Location
    source: LocationSource
    photos: list[NewPhoto]


async def submit_report(
    session: AsyncSession,
    submission: Submission,
    *,
    photos: Photos,
    area: ServiceArea,
    number_prefix: str,
    calendar: Calendar,
) -> Submitted:
    """Store the report, its photos, its hand-over event and the answer under the idempotency
    key; a retry with the same key gets the first answer and creates nothing.

    Photos are decoded with no transaction open (on SQLite an open one would hold the
    database's write lock for seconds) and written to storage before the report's rows are
    committed: a crash in between leaves an orphan file, never a report without its photo.
    """
    data, uploads = submission.data, submission.uploads
    request = _idempotent_request(submission)
    if request is not None and (replay := await _replay(session, request)) is not None:
        return replay
    category, attributes = await _checked(session, data, area)
    placed = await _placed(session, data.location, uploads, photos=photos, area=area)
    committing = False
    try:
        # Another request with the same key may have finished while photos were decoded.
        if (
            uploads
            and request is not None
            and (replay := await _replay(session, request)) is not None
        ):
            await photos.discard(placed.photos)
            return replay
        report = await _store(
            session,
            submission,
            request,
            category=category,
            attributes=attributes,
            placed=placed,
            number_prefix=number_prefix,
            calendar=calendar,
        )
        if submission.with_report is not None:
            await submission.with_report(session, report.id)
        committing = True
        await session.commit()
    except IntegrityError:
        # On PostgreSQL a concurrent request with the same key committed first.
        await session.rollback()
        await photos.discard(placed.photos)
        if request is None:
            raise
        if (replay := await _replay(session, request)) is None:
            raise IdempotentRequestInProgress() from None
        return replay
    except BaseException:
        # After a failed commit the rows may still have been stored: keep the files then.
        if not committing:
            await photos.discard(placed.photos)
        raise
    return Submitted(report=report, replayed=False)


def _idempotent_request(submission: Submission) -> IdempotentRequest | None:
    """The request to look the answer up by; None without an idempotency key."""
    if submission.idempotency_key is None:
        return None
    reporter = submission.reporter
    return IdempotentRequest(
        scope=f"{reporter.id if reporter else 'anonymous'} {submission.channel}",
        key=idempotency.parse_key(submission.idempotency_key),
        fingerprint=_fingerprint(submission.data, submission.uploads),
    )


async def _replay(
    session: AsyncSession, request: IdempotentRequest
) -> Submitted | None:
    """The first answer to the request's key, when there is one."""
    stored = await idempotency.find_answer(session, request)
    if stored is None:
        return None
    return Submitted(report=ReportCreated.model_validate(stored.body), replayed=True)


def _fingerprint(data: ReportCreate, uploads: Sequence[Upload]) -> str:
    report = data.model_dump(mode="json")
    if not uploads:
        return idempotency.fingerprint(report)
    return idempotency.fingerprint(
        {"report": report, "photos": [upload.sha256 for upload in uploads]}
    )


async def _placed(
    session: AsyncSession,
    location: Location | None,
    uploads: Sequence[Upload],
    *,
    photos: Photos,
    area: ServiceArea,
) -> _Placed:
    """The photos decoded and stored, and the report's position: the one sent, or else
    the first photo's."""
    new_photos: list[NewPhoto] = []
    source = LocationSource.DEVICE
    if uploads:
        # Ends the checks' transaction; nothing was written, and nothing loaded is expired.
        await session.commit()
        new_photos = await photos.process(uploads)
        if location is None:
            location, source = _location_from(new_photos[0]), LocationSource.PHOTO
            area.check(location.lat, location.lon)
        await photos.store(new_photos)
    if location is None:
        raise location_missing()
    return _Placed(location=location, source=source, photos=new_photos)


def _location_from(photo: NewPhoto) -> Location:
    if photo.processed.gps is None:
        raise location_missing()
    lat, lon = photo.processed.gps
    return Location(lat=lat, lon=lon)


async def _checked(
    session: AsyncSession, data: ReportCreate, area: ServiceArea
) -> tuple[Category, dict[str, Any]]:
    """The report's active category and its checked attributes; a position sent must be in
    the service area."""
    category = await _active_category(session, data.category)
    attributes = check_attributes(category.attributes, data.attributes)
    if data.location is not None:
        area.check(data.location.lat, data.location.lon)
    return category, attributes


async def _active_category(session: AsyncSession, code: str) -> Category:
    category = await categories.get_active_copy(session, code)
    if category is None:
        raise UnknownCategory(category=code)
    return category


async def _store(
    session: AsyncSession,
    submission: Submission,
    request: IdempotentRequest | None,
    *,
    category: Category,
    attributes: dict[str, Any],
    placed: _Placed,
    number_prefix: str,
    calendar: Calendar,
) -> ReportCreated:
    """Write the report, its outbox event and the answer under the key (not committed);
    the answer."""
    report, event = await _new_report(
        session,
        submission,
        category=category,
        attributes=attributes,
        placed=placed,
        number_prefix=number_prefix,
        calendar=calendar,
    )
    duplicates = await find_open_nearby(
        session, category=report.category, lat=report.lat, lon=report.lon
    )
    created = ReportCreated.created(report, submission.lang, duplicates=duplicates)
    also = [(table_of(OutboxEvent), [event])]
    if request is not None:
        answer = idempotency.answer_row(
            request,
            status=201,
            body=created.model_dump(mode="json"),
            resource_id=report.id,
        )
        also.append((table_of(IdempotencyRecord), [answer]))
    await repository.insert_new(session, report, also=also)
    wake_after_commit(session, RELAY)
    return created


async def _new_report(
    session: AsyncSession,
    submission: Submission,
    *,
    category: Category,
    attributes: dict[str, Any],
    placed: _Placed,
    number_prefix: str,
    calendar: Calendar,
) -> tuple[Report, dict[str, Any]]:
    """The new report (not written yet; the object only shapes the answer and never joins
    the session, its category being the process's shared copy) and its outbox row."""
    now = utcnow()
    serial = await repository.next_number(session, now.year)
    contact = _contact(submission)
    report = _report(
        submission,
        number=f"{number_prefix}-{now.year}-{serial:06d}",
        category=category,
        attributes=attributes,
        placed=placed,
        shares_contact=contact is not None,
        now=now,
        calendar=calendar,
    )
    event = ReportSubmittedV1(
        report_id=report.id,
        number=report.number,
        category=category.code,
        location=GeoPoint(lat=report.lat, lon=report.lon),
        description=report.description,
        attributes=report.attributes,
        photo_ids=[photo.id for photo in placed.photos],
        reporter_contact=contact,
        submitted_at=now,
        resolution_target=category.resolution_target,
    )
    envelope = Envelope(occurred_at=now, source="intake", event=event)
    return report, event_row(envelope, aggregate_id=report.id)


def _contact(submission: Submission) -> ReporterContact | None:
    """Who the city's CRM may contact about the report, if anyone."""
    reporter = submission.reporter
    # Only with consent, and only an address the resident proved is theirs (or the contact an
    # Open311 client sent for the CRM).
    return submission.contact or (
        ReporterContact(
            name=reporter.display_name, email=reporter.email, lang=reporter.lang
        )
        if submission.data.share_contact
        and reporter is not None
        and reporter.email_verified_at is not None
        else None
    )


def _report(
    submission: Submission,
    *,
    number: str,
    category: Category,
    attributes: dict[str, Any],
    placed: _Placed,
    shares_contact: bool,
    now: dt.datetime,
    calendar: Calendar,
) -> Report:
    """The report as filed: received, with its photos and first history row."""
    data, reporter = submission.data, submission.reporter
    report_id = uuid.uuid4()
    target = category.resolution_target
    return Report(
        id=report_id,
        number=number,
        category=category,
        category_code=category.code,
        lat=placed.location.lat,
        lon=placed.location.lon,
        location_source=placed.source,
        channel=submission.source,
        description=data.description,
        attributes=attributes,
        reporter_id=reporter.id if reporter else None,
        reporter=reporter,
        show_name=data.show_name and reporter is not None,
        share_contact=shares_contact,
        status=ReportStatus.RECEIVED,
        status_sequence=0,
        supporters_count=0,
        created_at=now,
        updated_at=now,
        # The adapter computes the case's due time from the same target, time and calendar.
        expected_resolution_at=due_at(
            now,
            calendar=calendar,
            hours=target.hours,
            working_days=target.working_days,
        ),
        unit=None,
        photos=[
            photo.row(report_id, position, now)
            for position, photo in enumerate(placed.photos)
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
