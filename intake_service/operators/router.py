"""GET /v1/operator/actions: the audit log of operators' changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from intake_service.deps import OperatorManageDep
from intake_service.operators import audit
from intake_service.operators.schemas import OperatorActionPage, OperatorActionRead
from intake_service.reports.exceptions import InvalidCursor
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing

router = APIRouter(prefix="/v1/operator", tags=["operator"])


@router.get(
    "/actions",
    summary="The audit log",
    description="Every change made with an operator key (and every key made or revoked on "
    "the command line): who (the key's name), what, on which thing, and when; newest first, "
    "in keyset pages (pass `next_cursor` back as `cursor`). Needs the `manage` role. Reads are "
    "not recorded.",
    responses=problem_responses(
        OperatorNotAuthenticated, OperatorRoleMissing, ValidationFailed, InvalidCursor
    ),
)
async def list_actions(
    session: SessionDep,
    operator: OperatorManageDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> OperatorActionPage:
    rows, next_cursor = await audit.list_actions(session, cursor=cursor, limit=limit)
    return OperatorActionPage(
        items=[OperatorActionRead.model_validate(row) for row in rows],
        next_cursor=next_cursor,
    )
