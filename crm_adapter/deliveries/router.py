"""Operators' view of deliveries to the CRMs: dead letters, attempt logs, replay, breakers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Query, Request

from crm_adapter.cases.exceptions import CaseNotFound
from crm_adapter.deliveries import connectors, operations, service
from crm_adapter.deliveries.exceptions import DeliveryNotDead, DeliveryNotFound
from crm_adapter.deliveries.models import DeliveryKind
from crm_adapter.deliveries.schemas import (
    CaseDeliveries,
    ConnectorRead,
    DeliveryDetail,
    DeliveryPage,
    DeliveryState,
    Replay,
)
from crm_adapter.operators.dependencies import ManageOperator, ReadOperator
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing
from shared.pagination import InvalidCursor
from shared.routes import Router

router = Router(prefix="/admin", tags=["admin"])

_READ = (OperatorNotAuthenticated, OperatorRoleMissing)

DELIVERIES = """A delivery is one thing the adapter must get into a CRM: a case's creation
(`kind` `create`, its id is the case's id) or a resident's action on the case (`reopen`,
`comment`, `erase_contact`, its id is the action's id, intake's id of it). Both ids are UUIDs
and never collide; `kind` in each answer says which it is."""


@router.get(
    "/deliveries",
    summary="Deliveries to the CRMs",
    description=DELIVERIES + " Newest first, in keyset pages (pass `next_cursor` back "
    "as `cursor`); `state=dead` lists the dead letters an operator must resolve or replay.",
    responses=problem_responses(*_READ, ValidationFailed, InvalidCursor),
)
async def list_deliveries(
    session: SessionDep,
    operator: ReadOperator,
    state: Annotated[DeliveryState | None, Query(description="Only these.")] = None,
    kind: Annotated[DeliveryKind | None, Query(description="Only these.")] = None,
    connector: Annotated[
        str | None, Query(max_length=50, description="Only this connector's.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> DeliveryPage:
    return await service.list_deliveries(
        session,
        state=state,
        kind=kind,
        connector=connector,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    # Typed in the path, so that `/deliveries/replay` is not taken for an id.
    "/deliveries/{delivery_id:uuid}",
    summary="One delivery and its attempts",
    description=DELIVERIES + " With every attempt made: when, how long, the outcome, "
    "and the CRM's status and error.",
    responses=problem_responses(*_READ, ValidationFailed, DeliveryNotFound),
)
async def get_delivery(
    session: SessionDep, operator: ReadOperator, delivery_id: uuid.UUID
) -> DeliveryDetail:
    return await service.get_delivery(session, delivery_id)


@router.get(
    "/cases/{case_id}/deliveries",
    summary="A case's deliveries",
    description="The case's creation in its CRM and the residents' actions on it, each "
    "with its attempts. `case_id` may also be the report's id (intake's).",
    responses=problem_responses(*_READ, ValidationFailed, CaseNotFound),
)
async def list_case_deliveries(
    session: SessionDep, operator: ReadOperator, case_id: uuid.UUID
) -> CaseDeliveries:
    return await service.case_deliveries(session, case_id)


@router.post(
    "/deliveries/{delivery_id}/replay",
    summary="Replay a dead delivery",
    description="Puts a dead delivery back to pending, due now, with a fresh retry budget "
    "and its attempts counted from zero, and keeps its idempotency: a creation is looked up "
    "in the CRM by its external reference (the report id) before anything is created, an "
    "action carries its own id as the CRM's idempotency key, so a replay of something the "
    "CRM did take changes nothing there. A dead action holds the case's later actions back "
    "until it is replayed. Needs the `manage` role; recorded in the audit log with the "
    "reason given. 409 when the delivery is not dead.",
    responses=problem_responses(
        *_READ, ValidationFailed, DeliveryNotFound, DeliveryNotDead
    ),
)
async def replay_delivery(
    session: SessionDep,
    operator: ManageOperator,
    delivery_id: uuid.UUID,
    replay: Annotated[
        Replay | None,
        Body(examples=[{"reason": "CRM category list fixed (ticket OPS-1234)"}]),
    ] = None,
) -> DeliveryDetail:
    return await service.replay(
        session, operator, delivery_id, reason=replay.reason if replay else None
    )


@router.get(
    "/connectors",
    summary="CRM connectors, their circuit breakers and pollers",
    description="Each CRM connector with its breaker: `closed`, `open` (nothing is sent "
    "to it until `open_until`; waiting deliveries burn neither attempts nor retry budget) or "
    "`half_open` (the next due delivery goes as a probe), the consecutive failures, the "
    "last error, and who tripped it by hand and why; and, for a connector polled for "
    "status changes, its poller: whether polling is on and how often, the stored cursor, "
    "the last run, the last success and the last error.",
    responses=problem_responses(*_READ),
)
async def list_connectors(
    session: SessionDep, operator: ReadOperator, request: Request
) -> list[ConnectorRead]:
    return await connectors.connectors(
        session, operations.configured(request), operations.polled(request)
    )
