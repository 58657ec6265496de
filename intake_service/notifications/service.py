"""Writing notifications and reading a resident's feed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts import repository as accounts
from intake_service.accounts.models import Account, Device
from intake_service.notifications import repository
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
        devices = await repository.device_ids(session, account.id)
        targets += [(Channel.PUSH, d) for d in devices]
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


async def feed(
    session: AsyncSession,
    account: Account,
    *,
    limit: int,
    before: tuple[dt.datetime, uuid.UUID] | None = None,
) -> list[Notification]:
    """The account's notifications, newest first, each with its report."""
    return await repository.newest_first(
        session, account.id, limit=limit, before=before
    )


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
    seen: uuid.UUID | None = None
    if last_event_id:
        try:
            seen = uuid.UUID(last_event_id)
        except ValueError:
            seen = None
    if seen is not None:
        position = await repository.position_of(session, account_id, seen)
        if position is not None:
            return position
    return await repository.newest_position(session, account_id)


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
    late_since = None
    if position is not None and sent is not None:
        late_since = position[0] - STREAM_LOOKBACK
    return await repository.oldest_first(
        session,
        account_id,
        position,
        limit=STREAM_BATCH,
        late_since=late_since,
        sent=sent or (),
    )


async def recent(
    session: AsyncSession, account_id: uuid.UUID, position: Position | None
) -> dict[uuid.UUID, dt.datetime]:
    """The account's notifications up to `position` and made within `STREAM_LOOKBACK`
    before it: a stream starting there counts them as sent."""
    if position is None:
        return {}
    created_at, _ = position
    return await repository.created_between(
        session, account_id, created_at - STREAM_LOOKBACK, created_at
    )


async def unread_count(session: AsyncSession, account: Account) -> int:
    return await repository.unread_count(session, account.id)


async def mark_read(
    session: AsyncSession, account: Account, ids: Sequence[uuid.UUID] | None
) -> int:
    """Mark the account's notifications read (the given ones, or all); returns how many."""
    marked = await repository.mark_read(session, account.id, ids, utcnow())
    await session.commit()
    return marked


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
        device = await repository.device_by_token(session, platform, token)
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
    return await repository.devices_of(session, account.id)


async def remove_device(
    session: AsyncSession, account: Account, device_id: uuid.UUID
) -> None:
    device = await accounts.device(session, device_id)
    if device is None or device.account_id != account.id:
        raise DeviceNotFound()
    await session.delete(device)
    await session.commit()
