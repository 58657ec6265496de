"""The audit log over HTTP: `GET {prefix}/actions`, the same in every service."""

# No `from __future__ import annotations`: the route's annotations use local names.

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.operator_store import OperatorStore
from shared.operators import Operator, OperatorNotAuthenticated, OperatorRoleMissing
from shared.pagination import InvalidCursor
from shared.routes import Router


class OperatorActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    operator_name: str = Field(
        description="The name of the key that made the change (`cli`: the command line).",
        examples=["zdium-dispatch"],
    )
    action: str = Field(
        description="What was done, as `<thing>.<verb>`.", examples=["survey.close"]
    )
    target_type: str = Field(examples=["survey"])
    target_id: str | None = Field(examples=["1f0e7c4a-5d1e-4b7b-9a3e-2c6b1d0f9e21"])
    details: dict[str, Any] = Field(
        description="What changed, e.g. the fields of an update.",
        examples=[{"fields": ["ends_at"]}],
    )
    request_id: str | None = Field(
        description="The request's `X-Request-ID`, when one was sent.",
        examples=[None],
    )
    occurred_at: dt.datetime


class OperatorActionPage(BaseModel):
    items: list[OperatorActionRead] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def actions_router(
    *, prefix: str, store: OperatorStore, manage: Any, tags: list[str]
) -> APIRouter:
    """A router with the audit log, read with the `manage` role (`manage` is the service's
    dependency checking it)."""
    router = Router(prefix=prefix, tags=list(tags))

    @router.get(
        "/actions",
        summary="The audit log",
        description="Every change made with an operator key (and every key made or revoked "
        "on the command line): who (the key's name), what, on which thing, and when; newest "
        "first, in keyset pages (pass `next_cursor` back as `cursor`). Needs the `manage` "
        "role. Reads are not recorded.",
        responses=problem_responses(
            OperatorNotAuthenticated,
            OperatorRoleMissing,
            ValidationFailed,
            InvalidCursor,
        ),
    )
    async def list_actions(
        session: SessionDep,
        operator: Annotated[Operator, Depends(manage)],
        limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
        cursor: Annotated[
            str | None, Query(description="`next_cursor` of the previous page.")
        ] = None,
    ) -> OperatorActionPage:
        rows, next_cursor = await store.list_actions(
            session, cursor=cursor, limit=limit
        )
        return OperatorActionPage(
            items=[OperatorActionRead.model_validate(row) for row in rows],
            next_cursor=next_cursor,
        )

    return router
