"""Queries on notifications, their deliveries and the devices they go to; never commits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, joinedload, raiseload

from intake_service.accounts.models import Device
from intake_service.notifications.models import (
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    Platform,
)
from intake_service.reports.models import Report


async def device_ids(session: AsyncSession, account_id: uuid.UUID) -> list[uuid.UUID]:
    """The ids of the account's devices."""
    query = select(Device.id).where(Device.account_id == account_id)
    return list((await session.scalars(query)).all())


def _with_reports() -> Select[Notification]:
    return (
        select(Notification)
        .join(Notification.report)
        .options(
            contains_eager(Notification.report).options(
                raiseload(Report.history), raiseload(Report.photos)
            )
        )
    )


async def newest_first(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[dt.datetime, uuid.UUID] | None,
) -> list[Notification]:
    """The account's notifications (created before `before`), newest first, each with its
    report."""
    query = (
        _with_reports()
        .where(Notification.account_id == account_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if before is not None:
        created_at, notification_id = before
        query = query.where(
            (Notification.created_at < created_at)
            | (
                (Notification.created_at == created_at)
                & (Notification.id < notification_id)
            )
        )
    return list((await session.scalars(query)).unique().all())


def _positions(account_id: uuid.UUID) -> Select[dt.datetime, uuid.UUID]:
    return select(Notification.created_at, Notification.id).where(
        Notification.account_id == account_id
    )


async def position_of(
    session: AsyncSession, account_id: uuid.UUID, notification_id: uuid.UUID
) -> tuple[dt.datetime, uuid.UUID] | None:
    """Creation time and id of the notification, if it is one of the account's."""
    query = _positions(account_id).where(Notification.id == notification_id)
    row = (await session.execute(query)).first()
    return (row.created_at, row.id) if row is not None else None


async def newest_position(
    session: AsyncSession, account_id: uuid.UUID
) -> tuple[dt.datetime, uuid.UUID] | None:
    """Creation time and id of the account's newest notification, if it has any."""
    query = _positions(account_id).order_by(
        Notification.created_at.desc(), Notification.id.desc()
    )
    row = (await session.execute(query.limit(1))).first()
    return (row.created_at, row.id) if row is not None else None


async def oldest_first(
    session: AsyncSession,
    account_id: uuid.UUID,
    position: tuple[dt.datetime, uuid.UUID] | None,
    *,
    limit: int,
    late_since: dt.datetime | None = None,
    sent: Collection[uuid.UUID] = (),
) -> list[Notification]:
    """The account's notifications after `position`, oldest first, each with its report.

    With `late_since`, also those created after that time and not among `sent`.
    """
    query = _with_reports().where(Notification.account_id == account_id)
    if position is not None:
        created_at, notification_id = position
        after = (Notification.created_at > created_at) | (
            (Notification.created_at == created_at)
            & (Notification.id > notification_id)
        )
        if late_since is not None:
            late = Notification.created_at > late_since
            if sent:
                late &= Notification.id.not_in(list(sent))
            after |= late
        query = query.where(after)
    query = query.order_by(Notification.created_at, Notification.id).limit(limit)
    return list((await session.scalars(query)).unique().all())


async def created_between(
    session: AsyncSession, account_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> dict[uuid.UUID, dt.datetime]:
    """Id and creation time of the account's notifications created after `start` and up
    to `end`."""
    rows = await session.execute(
        select(Notification.id, Notification.created_at).where(
            Notification.account_id == account_id,
            Notification.created_at > start,
            Notification.created_at <= end,
        )
    )
    return {row.id: row.created_at for row in rows}


async def unread_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    """How many of the account's notifications are unread."""
    query = select(func.count()).where(
        Notification.account_id == account_id, Notification.read_at.is_(None)
    )
    return (await session.execute(query)).scalar_one()


async def mark_read(
    session: AsyncSession,
    account_id: uuid.UUID,
    ids: Sequence[uuid.UUID] | None,
    now: dt.datetime,
) -> int:
    """Mark the account's unread notifications (the given ones, or all) read; returns how
    many."""
    statement = update(Notification).where(
        Notification.account_id == account_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = await session.execute(statement.values(read_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def device_by_token(
    session: AsyncSession, platform: Platform, token: str
) -> Device | None:
    """The device of the app install with this push token, whoever's it is."""
    return await session.scalar(
        select(Device).where(Device.platform == platform, Device.token == token)
    )


async def devices_of(session: AsyncSession, account_id: uuid.UUID) -> list[Device]:
    """The account's devices, the last registered first."""
    query = (
        select(Device)
        .where(Device.account_id == account_id)
        .order_by(Device.registered_at.desc())
    )
    return list((await session.scalars(query)).all())


async def due_deliveries(
    session: AsyncSession, now: dt.datetime, limit: int
) -> list[NotificationDelivery]:
    """Deliveries due at `now` (pending, or in flight with their lease ended), locked;
    rows another transaction holds are skipped."""
    m = NotificationDelivery
    due = or_(
        and_(m.status == DeliveryStatus.PENDING, m.next_attempt_at <= now),
        and_(m.status == DeliveryStatus.IN_FLIGHT, m.lease_until < now),
    )
    query = (
        select(m)
        .where(due)
        .order_by(m.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=m)
    )
    return list((await session.scalars(query)).all())


async def with_report(
    session: AsyncSession, notification_id: uuid.UUID
) -> Notification | None:
    """The notification with its report loaded."""
    return await session.scalar(
        select(Notification)
        .where(Notification.id == notification_id)
        .options(
            joinedload(Notification.report).options(
                raiseload(Report.history), raiseload(Report.photos)
            )
        )
    )


async def delivery(
    session: AsyncSession, delivery_id: uuid.UUID
) -> NotificationDelivery | None:
    """The delivery, if it still exists."""
    return await session.get(NotificationDelivery, delivery_id)


async def release(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    claim_token: uuid.UUID,
    *,
    status: DeliveryStatus,
    sent_at: dt.datetime | None = None,
    error: str | None = None,
    next_attempt_at: dt.datetime | None = None,
) -> None:
    """End the claim on the delivery with its new status, unless a later claim took it."""
    m = NotificationDelivery
    values: dict[str, object] = {
        "status": status,
        "lease_until": None,
        "claim_token": None,
    }
    if sent_at is not None:
        values["sent_at"] = sent_at
    if error is not None:
        values["last_error"] = error
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    await session.execute(
        update(m)
        .where(m.id == delivery_id, m.claim_token == claim_token)
        .values(**values)
    )
