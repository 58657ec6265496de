"""GET /v1/me/notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from intake_service.deps import AccountDep
from intake_service.notifications import service
from intake_service.notifications.schemas import NotificationList, NotificationRead
from shared.deps import SessionDep
from shared.errors import NotAuthenticated, ValidationFailed, problem_responses

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get(
    "/notifications",
    summary="My notifications",
    description="The signed-in resident's notifications about their reports, newest first, "
    "each in the language of the account.",
    responses=problem_responses(NotAuthenticated, ValidationFailed),
)
async def list_notifications(
    session: SessionDep,
    account: AccountDep,
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many.")] = 50,
) -> NotificationList:
    items = await service.list_for(session, account, limit=limit)
    return NotificationList(items=[NotificationRead.model_validate(n) for n in items])
