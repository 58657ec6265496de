"""Queries on the links of Open311 requests (`Open311Media`) and on the hand-over event they
hold back; never commits.

A request filed with links has its `report.submitted.v1` written with a later
`next_attempt_at`: the relay leaves it until then. Each photo that arrives is added to the
event's `photo_ids`, and once no link of the report is waiting any more the event is made due
at once. Only an event never tried is changed (`pending`, no attempt): the adapter has never
seen its id, so it gets one version of it, whole.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db import OutboxEvent
from intake_service.open311.models import MediaState, Open311Media
from intake_service.photos.models import Photo
from intake_service.photos.service import NewPhoto
from intake_service.reports import repository as reports
from intake_service.reports.models import Report
from shared.contracts import Envelope, ReportSubmittedV1
from shared.outbox import PENDING, RELAY
from shared.wakeup import wake_after_commit

HANDOVER = "report.submitted.v1"
"""The event type of a report's hand-over to the CRM adapter."""

_WAITING = (MediaState.PENDING, MediaState.IN_FLIGHT)


def new_rows(
    report_id: uuid.UUID, urls: Sequence[str], now: dt.datetime
) -> list[dict[str, Any]]:
    """The rows of a report's links, due at once."""
    return [
        {
            "id": uuid.uuid4(),
            "report_id": report_id,
            "position": position,
            "url": url,
            "state": MediaState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for position, url in enumerate(urls)
    ]


async def due(
    session: AsyncSession, now: dt.datetime, limit: int
) -> list[Open311Media]:
    """Links due at `now` (pending, or in flight with their lease ended), locked; rows
    another transaction holds are skipped, so that two workers never fetch one link."""
    m = Open311Media
    query = (
        select(m)
        .where(
            or_(
                and_(m.state == MediaState.PENDING, m.next_attempt_at <= now),
                and_(m.state == MediaState.IN_FLIGHT, m.lease_until < now),
            )
        )
        .order_by(m.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=m)
    )
    return list((await session.scalars(query)).all())


async def renew(
    session: AsyncSession, media_id: uuid.UUID, token: uuid.UUID, until: dt.datetime
) -> bool:
    """Move the claim's lease to `until`; False if another claim took the row."""
    m = Open311Media
    result = await session.execute(
        update(m)
        .where(
            m.id == media_id, m.claim_token == token, m.state == MediaState.IN_FLIGHT
        )
        .values(lease_until=until)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def claimed(
    session: AsyncSession, media_id: uuid.UUID, token: uuid.UUID
) -> Open311Media | None:
    """The row, locked, if the claim is still ours."""
    m = Open311Media
    return await session.scalar(
        select(m)
        .where(
            m.id == media_id, m.claim_token == token, m.state == MediaState.IN_FLIGHT
        )
        .with_for_update(of=m)
    )


async def retry_later(
    session: AsyncSession,
    media_id: uuid.UUID,
    token: uuid.UUID,
    *,
    at: dt.datetime,
    failure: str,
    error: str,
) -> None:
    """End the claim with the row pending again until `at`."""
    m = Open311Media
    await session.execute(
        update(m)
        .where(m.id == media_id, m.claim_token == token)
        .values(
            state=MediaState.PENDING,
            next_attempt_at=at,
            lease_until=None,
            claim_token=None,
            failure=failure,
            last_error=error[:2048],
        )
    )


async def attach(
    session: AsyncSession, media: Open311Media, photo: NewPhoto, now: dt.datetime
) -> None:
    """Add the photo to the report after its others, and mark the link fetched.

    The report's row is locked first, so that photos arriving at once for one report take
    one position each."""
    report = await reports.get(session, media.report_id, for_update=True)
    assert report is not None  # its links would have gone with it
    last = await session.scalar(
        select(func.max(Photo.position)).where(Photo.report_id == report.id)
    )
    session.add(photo.row(report.id, 0 if last is None else last + 1, now))
    await session.flush()  # the photo's row before the link names it
    _finish(media, MediaState.FETCHED, now)
    media.photo_id = photo.id
    media.failure = media.last_error = None
    await session.flush()
    await hand_over(session, report.id, now)


async def give_up(
    session: AsyncSession,
    media: Open311Media,
    now: dt.datetime,
    *,
    failure: str,
    error: str,
) -> None:
    """Mark the link failed (it stays for operators), and let the report go on without it."""
    _finish(media, MediaState.FAILED, now)
    media.failure, media.last_error = failure, error[:2048]
    await session.flush()
    await hand_over(session, media.report_id, now)


def _finish(media: Open311Media, state: MediaState, now: dt.datetime) -> None:
    media.state = state
    media.finished_at = now
    media.lease_until = None
    media.claim_token = None


async def hand_over(
    session: AsyncSession, report_id: uuid.UUID, now: dt.datetime
) -> None:
    """Bring the report's held hand-over up to date with its photos; make it due now when
    no link of the report is waiting any more. An event already tried is left alone."""
    event_row = await session.scalar(
        select(OutboxEvent)
        .where(
            OutboxEvent.aggregate_id == report_id,
            OutboxEvent.event_type == HANDOVER,
            OutboxEvent.status == PENDING,
            OutboxEvent.attempts == 0,
        )
        .with_for_update(of=OutboxEvent)
    )
    if event_row is None:
        return
    photo_ids = list(
        (
            await session.scalars(
                select(Photo.id)
                .where(Photo.report_id == report_id)
                .order_by(Photo.position)
            )
        ).all()
    )
    envelope = Envelope.model_validate_json(event_row.payload)
    event = envelope.event
    assert isinstance(event, ReportSubmittedV1)
    event = event.model_copy(update={"photo_ids": photo_ids[:10]})
    event_row.payload = envelope.model_copy(update={"event": event}).model_dump_json()
    if not await waiting(session, report_id) and event_row.next_attempt_at > now:
        event_row.next_attempt_at = now
        wake_after_commit(session, RELAY)


async def waiting(session: AsyncSession, report_id: uuid.UUID) -> bool:
    """Whether a link of the report is still to be fetched."""
    m = Open311Media
    found = await session.scalar(
        select(m.id).where(m.report_id == report_id, m.state.in_(_WAITING)).limit(1)
    )
    return found is not None


async def listed(
    session: AsyncSession,
    *,
    state: MediaState | None,
    number: str | None,
    limit: int,
) -> list[tuple[Open311Media, str]]:
    """Links newest first, with their report's number."""
    m = Open311Media
    query = select(m, Report.number).join(Report, Report.id == m.report_id)
    if state is not None:
        query = query.where(m.state == state)
    if number is not None:
        query = query.where(Report.number == number)
    query = query.order_by(m.created_at.desc(), m.position).limit(limit)
    return [
        (media, report_number) for media, report_number in await session.execute(query)
    ]
