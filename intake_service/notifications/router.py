"""A signed-in resident's notifications: the feed, marking read."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.accounts.dependencies import AccountDep, BearerTokenDep
from intake_service.accounts.tokens import authenticate_token
from intake_service.notifications import service
from intake_service.notifications.exceptions import DeviceNotFound
from intake_service.notifications.schemas import (
    DeviceRead,
    DeviceRegister,
    MarkedRead,
    MarkRead,
    NotificationList,
    NotificationRead,
)
from intake_service.wakeups import NOTIFICATIONS
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses
from shared.pagination import InvalidCursor, PageKey, decode_cursor, encode_cursor
from shared.routes import Router
from shared.wakeup import Wakeups

router = Router(prefix="/v1/me/notifications", tags=["me"])

TOKEN_RECHECK_SECONDS = 30.0
"""How soon an open stream ends after its token was revoked, at the latest."""


@router.get(
    "",
    summary="My notifications",
    description="The signed-in resident's notifications about their own and supported "
    "reports, newest first, in the account's language (texts follow a change of language), "
    "with the number still unread. Keyset pages: pass `next_cursor` back as `cursor`.",
    responses=problem_responses(NotAuthenticated, ValidationFailed, InvalidCursor),
)
async def list_notifications(
    session: SessionDep,
    account: AccountDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> NotificationList:
    before = decode_cursor(cursor) if cursor else None
    items = await service.feed(
        session,
        account,
        limit=limit + 1,
        before=(before.created_at, before.id) if before else None,
    )
    page = items[:limit]
    next_cursor = (
        encode_cursor(PageKey(page[-1].created_at, page[-1].id))
        if len(items) > limit
        else None
    )
    return NotificationList(
        items=[NotificationRead.of(n, account.lang) for n in page],
        unread_count=await service.unread_count(session, account),
        next_cursor=next_cursor,
    )


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    summary="My notifications as they happen (Server-Sent Events)",
    description="A `text/event-stream` that stays open. It opens with an event `ready` "
    "(`data`: the unread count); then each new notification is sent as an "
    "event `notification` whose `data` is the notification (as in the feed) and whose `id` "
    "is its id, within moments of the status change, whichever server process received it. "
    "Comments keep the connection alive. On reconnecting, browsers send `Last-Event-ID` "
    "and get what they missed; without it the stream starts with the next notification. "
    "The stream ends when the token is revoked (sign-out, password reset, erasure).",
    responses=problem_responses(NotAuthenticated),
)
async def stream_notifications(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    token: BearerTokenDep,
    last_event_id: Annotated[
        str | SkipJsonSchema[None],
        Header(
            alias="Last-Event-ID",
            description="The id of the last event received, to resume after it.",
        ),
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    account_id, lang = account.id, account.lang
    # The stream ends when its client goes, whatever it is doing then; its queries are
    # shielded from that, so that none is cut off half-way: a cut-off query's connection
    # is thrown away, and on SQLite it keeps the write lock until it is collected.
    with anyio.CancelScope(shield=True):
        position = await service.stream_start(session, account_id, last_event_id)
        sent = await service.recent(session, account_id, position)
        unread = await service.unread_count(session, account)
        # Nothing is held while the stream is open: no transaction, no connection.
        await session.commit()
    yield ServerSentEvent(event="ready", data={"unread_count": unread})
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    wakeups: Wakeups = request.app.state.wakeups
    with wakeups.subscription(NOTIFICATIONS) as woken:
        while True:
            woken.clear()
            with anyio.CancelScope(shield=True):
                async with sessionmaker() as reading:
                    # Signed out, reset or erased since the stream opened: it ends here.
                    still = await authenticate_token(reading, token)
                    if still is None or still.id != account_id:
                        return
                    news = await service.newer_than(
                        reading, account_id, position, sent=sent
                    )
                    await reading.commit()
            for notification in news:
                yield ServerSentEvent(
                    event="notification",
                    id=str(notification.id),
                    data=NotificationRead.of(notification, lang).model_dump(
                        mode="json"
                    ),
                )
                sent[notification.id] = notification.created_at
                position = max(
                    position or (notification.created_at, notification.id),
                    (notification.created_at, notification.id),
                )
            if position is not None:
                horizon = position[0] - service.STREAM_LOOKBACK
                sent = {i: at for i, at in sent.items() if at > horizon}
            if len(news) < service.STREAM_BATCH:
                # Woken by news, or after a while to see that the token still holds.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(TOKEN_RECHECK_SECONDS):
                        await woken.wait()


@router.post(
    "/read",
    summary="Mark notifications read",
    description="Marks the given notifications (or, without `ids`, all of them) read. "
    "Ids of other residents' notifications are ignored.",
    responses=problem_responses(NotAuthenticated, ValidationFailed),
)
async def mark_notifications_read(
    session: SessionDep, account: AccountDep, change: MarkRead
) -> MarkedRead:
    marked = await service.mark_read(session, account, change.ids)
    return MarkedRead(
        marked=marked, unread_count=await service.unread_count(session, account)
    )


devices_router = Router(prefix="/v1/me/devices", tags=["me"])


@devices_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DeviceRead,
    summary="Register a device for push",
    description="Registers this app install's push token (FCM for `android` and `web`, APNs "
    "or FCM for `ios`) so that the resident's notifications are pushed to it. 201 when new, "
    "200 when the token was known (it is then moved to this account). A token the push "
    "service reports as gone is removed on its own.",
    responses={
        200: {
            "description": "Known already; now registered to this account.",
            "model": DeviceRead,
        },
        **problem_responses(NotAuthenticated, ValidationFailed),
    },
)
async def register_device(
    session: SessionDep, account: AccountDep, device: DeviceRegister
) -> JSONResponse:
    registered, created = await service.register_device(
        session, account, platform=device.platform, token=device.token
    )
    return JSONResponse(
        DeviceRead.model_validate(registered).model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


@devices_router.get(
    "",
    summary="My devices",
    description="The devices that receive the resident's push notifications, most recently "
    "registered first (tokens are not shown).",
    responses=problem_responses(NotAuthenticated),
)
async def list_devices(session: SessionDep, account: AccountDep) -> list[DeviceRead]:
    return [
        DeviceRead.model_validate(d) for d in await service.devices_of(session, account)
    ]


@devices_router.delete(
    "/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Unregister a device",
    description="Stops pushes to the device (e.g. on sign-out in the app). Another "
    "resident's device is a 404.",
    responses=problem_responses(NotAuthenticated, DeviceNotFound, ValidationFailed),
)
async def remove_device(
    session: SessionDep, account: AccountDep, device_id: uuid.UUID
) -> Response:
    await service.remove_device(session, account, device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
