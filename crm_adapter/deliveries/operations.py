"""Operators' controls of deliveries: tripping and resetting a connector's breaker by hand,
and replaying dead deliveries in bulk (RELIABILITY §4.3, §4.5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Path, Request

from crm_adapter.crm.configured import poll_intervals
from crm_adapter.deliveries import connectors, service
from crm_adapter.deliveries.exceptions import (
    ConnectorNotFound,
    EmptyDeadWindow,
    ReplayFilterMissing,
)
from crm_adapter.deliveries.schemas import (
    REPLAY_CAP,
    BulkReplay,
    BulkReplayResult,
    ConnectorRead,
    ConnectorReset,
    Reset,
    Trip,
)
from crm_adapter.operators.dependencies import ManageOperator
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing
from shared.routes import Router

router = Router(prefix="/admin", tags=["admin"])

_MANAGE = (OperatorNotAuthenticated, OperatorRoleMissing)


def configured(request: Request) -> list[str]:
    """The names of the connectors this adapter has."""
    return list(request.app.state.crm_connectors)


def polled(request: Request) -> dict[str, float]:
    """The connectors this adapter polls, with their intervals in seconds."""
    return poll_intervals(request.app.state.settings)


ConnectorName = Annotated[
    str, Path(max_length=50, description="As `GET /admin/connectors` lists it.")
]


@router.post(
    "/connectors/{name}/trip",
    summary="Trip a connector's circuit breaker",
    description="Opens the connector's breaker by hand, e.g. for a CRM's maintenance "
    "window: nothing is sent to it (its deliveries wait, burning neither attempts nor "
    "retry budget) for `seconds`, after which it goes half-open and the next due delivery "
    "is sent as a probe, or, without `seconds`, until an operator resets it. Meanwhile no "
    "answer of an attempt already under way closes it. Tripping an open breaker sets its "
    "new end. Needs the `manage` role; recorded in the audit log with the reason given.",
    responses=problem_responses(*_MANAGE, ValidationFailed, ConnectorNotFound),
)
async def trip_connector(
    session: SessionDep,
    operator: ManageOperator,
    request: Request,
    name: ConnectorName,
    trip: Annotated[
        Trip | None,
        Body(
            examples=[
                {"seconds": 1800, "reason": "CRM maintenance window (ticket OPS-1240)"}
            ]
        ),
    ] = None,
) -> ConnectorRead:
    trip = trip or Trip()
    return await connectors.trip(
        session,
        operator,
        name,
        configured=configured(request),
        polled=polled(request),
        policy=request.app.state.settings.breaker_policy(),
        seconds=trip.seconds,
        reason=trip.reason,
    )


@router.post(
    "/connectors/{name}/reset",
    summary="Reset a connector's circuit breaker",
    description="Closes the connector's breaker at once, whether it opened after failures "
    "or an operator tripped it, and counts its failures from zero. The connector's "
    "deliveries waiting out a retry delay become due now (`deliveries_due_now` says how "
    "many), and the time the breaker was open is given back to their retry budgets. On a "
    "closed breaker it only makes those deliveries due: a way to retry now after a fix. "
    "Needs the `manage` role; recorded in the audit log.",
    responses=problem_responses(*_MANAGE, ValidationFailed, ConnectorNotFound),
)
async def reset_connector(
    session: SessionDep,
    operator: ManageOperator,
    request: Request,
    name: ConnectorName,
    reset: Annotated[
        Reset | None, Body(examples=[{"reason": "CRM back after maintenance"}])
    ] = None,
) -> ConnectorReset:
    return await connectors.reset(
        session,
        operator,
        name,
        configured=configured(request),
        polled=polled(request),
        reason=reset.reason if reset else None,
    )


@router.post(
    "/deliveries/replay",
    summary="Replay dead deliveries in bulk",
    description="Replays the dead deliveries that match every filter given: a report's "
    "(`report_id`), a connector's, a kind's, those that became dead in "
    "`[dead_since, dead_until)`; at least one filter is needed. Each is replayed as "
    "`POST /admin/deliveries/{id}/replay` does it: back to pending, due now, with a fresh "
    "retry budget and the same idempotency (a creation is looked up in the CRM by its "
    "external reference first, an action carries its own id as the CRM's idempotency "
    f"key). At most `limit` (up to {REPLAY_CAP}) per call, oldest first; `more` says "
    "whether others match, to be replayed by calling again. Needs the `manage` role; one "
    "entry in the audit log per call, with the filters, the count and the reason.",
    responses=problem_responses(
        *_MANAGE, ValidationFailed, ReplayFilterMissing, EmptyDeadWindow
    ),
)
async def replay_deliveries(
    session: SessionDep,
    operator: ManageOperator,
    selection: Annotated[
        BulkReplay,
        Body(
            examples=[
                {
                    "connector": "rest_json",
                    "kind": "create",
                    "dead_since": "2026-11-28T08:00:00Z",
                    "dead_until": "2026-11-28T12:00:00Z",
                    "reason": "CRM category list fixed (ticket OPS-1234)",
                }
            ]
        ),
    ],
) -> BulkReplayResult:
    return await service.replay_many(session, operator, selection)
