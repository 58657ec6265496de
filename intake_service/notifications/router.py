"""A signed-in resident's notifications: the feed, marking read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from intake_service.deps import AccountDep
from intake_service.notifications import service
from intake_service.notifications.schemas import (
    MarkedRead,
    MarkRead,
    NotificationList,
    NotificationRead,
)
from intake_service.reports.exceptions import InvalidCursor
from intake_service.reports.pagination import decode_cursor, encode_cursor
from intake_service.reports.repository import PageKey
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses

router = APIRouter(prefix="/v1/me/notifications", tags=["me"])


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


@router.post(
    "/read",
    summary="Mark notifications read",
    description="Marks the given notifications (or, without `ids`, all of them) read. "
    "Ids of other residents' notifications are ignored.",
    responses=problem_responses(NotAuthenticated, ValidationFailed),
)
async def mark_read(
    session: SessionDep, account: AccountDep, change: MarkRead
) -> MarkedRead:
    marked = await service.mark_read(session, account, change.ids)
    return MarkedRead(
        marked=marked, unread_count=await service.unread_count(session, account)
    )
