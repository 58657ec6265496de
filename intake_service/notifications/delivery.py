"""The delivery loop: sends due notification deliveries through their channel, with retries.

A delivery is claimed under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of
workers share the work), sent with no transaction open, then marked sent, retried later with
backoff and full jitter, or dead. A failing channel only delays its own rows: each delivery is
sent on its own, so an e-mail server that is down never holds back a push.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.accounts import repository as accounts
from intake_service.notifications import repository
from intake_service.notifications.channels import (
    DeliveryFailed,
    EmailSender,
    Outgoing,
    PushSender,
)
from intake_service.notifications.models import (
    Channel,
    DeliveryStatus,
    NotificationDelivery,
    Platform,
)
from intake_service.notifications.texts import notification_text, notification_title
from shared import tracing
from shared.background import for_each_concurrently
from shared.db import utcnow
from shared.retry import Backoff

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Task:
    """A claimed delivery with what sending it needs, read before the network call."""

    id: uuid.UUID
    token: uuid.UUID
    attempts: int
    created_at: dt.datetime
    channel: Channel
    address: str | None
    platform: Platform | None
    message: Outgoing
    traceparent: str | None
    """The trace of the status change that made the notification."""


class DeliveryLoop:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        push: dict[Platform, PushSender],
        email: EmailSender,
        backoff: Backoff,
        lease: dt.timedelta = dt.timedelta(seconds=120),
        batch_size: int = 50,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._push = push
        self._email = email
        self._backoff = backoff
        self._lease = lease
        self.batch_size = batch_size
        """Most items one step takes."""

    async def run_once(self) -> int:
        """Send what is due; returns how many deliveries were claimed."""
        tasks = await self._claim()
        await for_each_concurrently(tasks, self._send)
        return len(tasks)

    async def _claim(self) -> list[_Task]:
        now = utcnow()
        token = uuid.uuid4()
        async with self._sessionmaker() as session:
            rows = await repository.due_deliveries(session, now, self.batch_size)
            for row in rows:
                row.status = DeliveryStatus.IN_FLIGHT
                row.lease_until = now + self._lease
                row.claim_token = token
                row.attempts += 1
            await session.commit()
            tasks = [await self._task(session, row, token) for row in rows]
        return [task for task in tasks if task is not None]

    async def _task(
        self, session: AsyncSession, row: NotificationDelivery, token: uuid.UUID
    ) -> _Task | None:
        """What sending needs; None when the resident erased their account meanwhile."""
        notification = await repository.with_report(session, row.notification_id)
        account = (
            await accounts.by_id(session, notification.account_id)
            if notification
            else None
        )
        if notification is None or account is None:
            await session.commit()
            return None
        device = (
            await accounts.device(session, row.device_id) if row.device_id else None
        )
        if device is not None and device.account_id != notification.account_id:
            device = None  # the phone was handed on: the new owner gets none of this
        report = notification.report
        lang = account.lang
        message = Outgoing(
            delivery_id=str(row.id),
            title=notification_title(report, lang),
            text=notification_text(notification, report, lang),
            data={
                "notification_id": str(notification.id),
                "report_id": str(report.id),
                "kind": notification.kind,
            },
            # A report's status pushes replace each other on the phone; its question
            # whether it was fixed stands beside them.
            collapse_key=f"report-{report.id}"
            if notification.kind == "status_changed"
            else f"{notification.kind}-{report.id}",
        )
        await session.commit()
        channel = Channel(row.channel)
        if channel is Channel.EMAIL:
            address: str | None = account.email
        else:
            address = device.token if device else None
        return _Task(
            id=row.id,
            token=token,
            attempts=row.attempts,
            created_at=row.created_at,
            channel=channel,
            address=address,
            platform=Platform(device.platform) if device else None,
            message=message,
            traceparent=row.traceparent,
        )

    async def _send(self, task: _Task) -> None:
        """One attempt, in the trace of the status change the notification tells of."""
        with tracing.continued(
            task.traceparent,
            "notification.send",
            kind=SpanKind.PRODUCER,
            attributes={"mam.delivery_id": str(task.id), "mam.channel": task.channel},
        ):
            await self._attempt(task)

    async def _attempt(self, task: _Task) -> None:
        try:
            async with asyncio.timeout(self._lease.total_seconds() / 2):
                await self._deliver(task)
        except DeliveryFailed as failure:
            await self._failed(task, failure)
        except TimeoutError:
            await self._failed(task, DeliveryFailed("attempt timed out"))
        except Exception as exc:
            # A sender's surprise (an answer it cannot read, a full disk) is retried like
            # any failure, within the budget, rather than left claimed for good.
            logger.exception(
                "notification.send_failed",
                extra={"delivery_id": str(task.id), "channel": task.channel},
            )
            await self._failed(task, DeliveryFailed(type(exc).__name__))
        else:
            await self._finish(task, status=DeliveryStatus.SENT)
            logger.info(
                "notification.sent",
                extra={"delivery_id": str(task.id), "channel": task.channel},
            )

    async def _deliver(self, task: _Task) -> None:
        if task.address is None:
            raise DeliveryFailed("the device was removed", permanent=True)
        if task.channel is Channel.EMAIL:
            await self._email.send(task.address, task.message)
            return
        assert task.platform is not None
        await self._push[task.platform].send(task.address, task.message)

    async def _failed(self, task: _Task, failure: DeliveryFailed) -> None:
        now = utcnow()
        error = str(failure)[:2048]
        if failure.gone:
            await self._forget_device(task)
        if failure.permanent or now - task.created_at > self._backoff.budget:
            await self._finish(task, status=DeliveryStatus.DEAD, error=error)
            logger.error(
                "notification.dead",
                extra={"delivery_id": str(task.id), "channel": task.channel},
            )
            return
        delay = self._backoff.delay(task.attempts, failure.retry_after)
        await self._finish(
            task,
            status=DeliveryStatus.PENDING,
            error=error,
            next_attempt_at=now + dt.timedelta(seconds=delay),
        )
        logger.warning(
            "notification.retry",
            extra={"delivery_id": str(task.id), "attempt": task.attempts},
        )

    async def _forget_device(self, task: _Task) -> None:
        """The app was uninstalled: its token is dropped and not used again."""
        async with self._sessionmaker() as session:
            delivery = await repository.delivery(session, task.id)
            if delivery is not None and delivery.device_id is not None:
                device = await accounts.device(session, delivery.device_id)
                if device is not None:
                    await session.delete(device)
            await session.commit()

    async def _finish(
        self,
        task: _Task,
        *,
        status: DeliveryStatus,
        error: str | None = None,
        next_attempt_at: dt.datetime | None = None,
    ) -> None:
        sent_at = utcnow() if status is DeliveryStatus.SENT else None
        async with self._sessionmaker() as session:
            await repository.release(
                session,
                task.id,
                task.token,
                status=status,
                sent_at=sent_at,
                error=error,
                next_attempt_at=next_attempt_at,
            )
            await session.commit()
