"""Recording what operators change: a row in the change's own transaction, then a log line."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.operators import repository
from intake_service.operators.models import OperatorAction
from intake_service.reports.pagination import decode_cursor, encode_cursor
from intake_service.reports.repository import PageKey
from shared.db import utcnow
from shared.operators import Operator

logger = logging.getLogger(__name__)


def record(
    session: AsyncSession,
    operator: Operator,
    *,
    action: str,
    target_type: str,
    target_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> OperatorAction:
    """Add the audit row to the session; it is committed with the change it describes."""
    row = OperatorAction(
        operator_name=operator.name,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
        request_id=operator.request_id,
        occurred_at=utcnow(),
    )
    session.add(row)
    return row


async def commit(session: AsyncSession, *actions: OperatorAction) -> None:
    """Commit the change and its audit rows, then log each action (only once it happened)."""
    await session.commit()
    for action in actions:
        # Who and what, by name and id: never a resident's data or an operator's free text.
        logger.info(
            "operator.action",
            extra={
                "operator": action.operator_name,
                "action": action.action,
                "target_type": action.target_type,
                "target_id": action.target_id,
                "request_id": action.request_id,
            },
        )


async def list_actions(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[OperatorAction], str | None]:
    """One page of the audit log, newest first, and the next page's cursor (None at the end)."""
    rows = await repository.actions(
        session, after=decode_cursor(cursor) if cursor else None, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = (
        encode_cursor(PageKey(page[-1].occurred_at, page[-1].id)) if more else None
    )
    return page, next_cursor
