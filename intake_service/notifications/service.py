"""Writing notifications and reading a resident's feed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, raiseload

from intake_service.accounts.models import Account, Device
from intake_service.notifications.exceptions import DeviceNotFound
from intake_service.notifications.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationKind,
    Platform,
)
from intake_service.reports.models import Report
from intake_service.wakeups import NOTIFICATIONS
from shared.contracts import ReportStatus
from shared.db import utcnow
from shared.wakeup import wake_after_commit

DELIVERIES = "notification-deliveries"
"""Wake-up of the delivery loop."""


async def add_notification(
    session: AsyncSession,
    *,
    account: Account,
    report: Report,
    kind: NotificationKind,
    sequence: int,
    status: ReportStatus,
    note: str | None = None,
) -> Notification:
    """Add a notification to the caller's transaction: the one way residents are told.

    With it go its deliveries: a push to each of the account's devices and an e-mail to a
    verified address, as the resident chose. The delivery loop and open streams are woken
    when the transaction commits.
    """
    now = utcnow()
    notification = Notification(
        id=uuid.uuid4(),
        account_id=account.id,
        report_id=report.id,
        kind=kind,
        sequence=sequence,
        status=status,
        note=note,
        created_at=now,
    )
    session.add(notification)
    targets: list[tuple[Channel, uuid.UUID | None]] = []
    if account.notify_push:
        devices = select(Device.id).where(Device.account_id == account.id)
        targets += [(Channel.PUSH, d) for d in (await session.scalars(devices)).all()]
    if account.notify_email and account.email_verified_at is not None:
        targets.append((Channel.EMAIL, None))
    for channel, device_id in targets:
        session.add(
            NotificationDelivery(
                id=uuid.uuid4(),
                notification_id=notification.id,
                channel=channel,
                device_id=device_id,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    if targets:
        wake_after_commit(session, DELIVERIES)
    wake_after_commit(session, NOTIFICATIONS)
    return notification


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


async def feed(
    session: AsyncSession,
    account: Account,
    *,
    limit: int,
    before: tuple[dt.datetime, uuid.UUID] | None = None,
) -> list[Notification]:
    """The account's notifications, newest first, each with its report."""
    query = (
        _with_reports()
        .where(Notification.account_id == account.id)
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


STREAM_BATCH = 100
STREAM_LOOKBACK = dt.timedelta(seconds=60)
"""How long before the newest one sent a stream still looks for notifications whose
transaction committed late."""
Position = tuple[dt.datetime, uuid.UUID]
"""Where a stream stands: the last notification sent (creation time, id)."""


async def stream_start(
    session: AsyncSession, account_id: uuid.UUID, last_event_id: str | None
) -> Position | None:
    """Resume after the notification the client saw last, or start after the newest."""
    query = select(Notification.created_at, Notification.id).where(
        Notification.account_id == account_id
    )
    seen: uuid.UUID | None = None
    if last_event_id:
        try:
            seen = uuid.UUID(last_event_id)
        except ValueError:
            seen = None
    if seen is not None:
        row = (await session.execute(query.where(Notification.id == seen))).first()
        if row is not None:
            return (row.created_at, row.id)
    newest = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    row = (await session.execute(newest.limit(1))).first()
    return (row.created_at, row.id) if row is not None else None


async def newer_than(
    session: AsyncSession,
    account_id: uuid.UUID,
    position: Position | None,
    *,
    sent: Mapping[uuid.UUID, dt.datetime] | None = None,
) -> list[Notification]:
    """The account's notifications after `position`, oldest first.

    With `sent` (what a stream sent in the last `STREAM_LOOKBACK`), also those made up to
    that long before `position` and not sent: a notification's time is taken before its
    transaction commits, so one can become visible after a later one was sent.
    """
    query = _with_reports().where(Notification.account_id == account_id)
    if position is not None:
        created_at, notification_id = position
        after = (Notification.created_at > created_at) | (
            (Notification.created_at == created_at)
            & (Notification.id > notification_id)
        )
        if sent is not None:
            late = Notification.created_at > created_at - STREAM_LOOKBACK
            if sent:
                late &= Notification.id.not_in(list(sent))
            after |= late
        query = query.where(after)
    query = query.order_by(Notification.created_at, Notification.id).limit(STREAM_BATCH)
    return list((await session.scalars(query)).unique().all())


async def recent(
    session: AsyncSession, account_id: uuid.UUID, position: Position | None
) -> dict[uuid.UUID, dt.datetime]:
    """The account's notifications up to `position` and made within `STREAM_LOOKBACK`
    before it: a stream starting there counts them as sent."""
    if position is None:
        return {}
    created_at, _ = position
    rows = await session.execute(
        select(Notification.id, Notification.created_at).where(
            Notification.account_id == account_id,
            Notification.created_at > created_at - STREAM_LOOKBACK,
            Notification.created_at <= created_at,
        )
    )
    return {row.id: row.created_at for row in rows}


async def unread_count(session: AsyncSession, account: Account) -> int:
    query = select(func.count()).where(
        Notification.account_id == account.id, Notification.read_at.is_(None)
    )
    return (await session.execute(query)).scalar_one()


async def mark_read(
    session: AsyncSession, account: Account, ids: Sequence[uuid.UUID] | None
) -> int:
    """Mark the account's notifications read (the given ones, or all); returns how many."""
    statement = update(Notification).where(
        Notification.account_id == account.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = await session.execute(statement.values(read_at=utcnow()))
    await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


async def register_device(
    session: AsyncSession, account: Account, *, platform: Platform, token: str
) -> tuple[Device, bool]:
    """The device with this token, now the account's; True when it is new.

    A token names one app install; when another account registered it before (a shared or
    handed-on phone), it moves to this one, so nobody gets another person's notifications.
    """
    now = utcnow()
    # Read before a possible rollback, which expires what the session loaded.
    account_id = account.id
    for attempt in range(2):
        device = await session.scalar(
            select(Device).where(Device.platform == platform, Device.token == token)
        )
        created = device is None
        if device is None:
            device = Device(
                id=uuid.uuid4(),
                account_id=account_id,
                platform=platform,
                token=token,
                created_at=now,
                registered_at=now,
            )
            session.add(device)
        else:
            device.account_id = account_id
            device.registered_at = now
        try:
            await session.commit()
        except IntegrityError:
            # The same app registered twice at once and the other request won: use its row.
            await session.rollback()
            if attempt:
                raise
            continue
        return device, created
    raise AssertionError("unreachable")


async def devices_of(session: AsyncSession, account: Account) -> list[Device]:
    query = (
        select(Device)
        .where(Device.account_id == account.id)
        .order_by(Device.registered_at.desc())
    )
    return list((await session.scalars(query)).all())


async def remove_device(
    session: AsyncSession, account: Account, device_id: uuid.UUID
) -> None:
    device = await session.get(Device, device_id)
    if device is None or device.account_id != account.id:
        raise DeviceNotFound()
    await session.delete(device)
    await session.commit()
