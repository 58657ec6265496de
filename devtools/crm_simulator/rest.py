"""The simulator's REST JSON API: the CRM's cases (`/api/…`, behind its API key) in `cases`,
and in `control` what a test reads and sets: the webhooks sent and the faults in force."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, status
from fastapi.routing import APIRoute
from pydantic.json_schema import SkipJsonSchema

from devtools.crm_simulator.faults import Faults
from devtools.crm_simulator.models import (
    Case,
    CaseComment,
    CaseCreate,
    CaseStatus,
    CommentCreate,
    FaultsRead,
    Reopen,
    StatusChange,
    Update,
    WebhookDelivery,
)
from devtools.crm_simulator.state import Sim, Simulator
from devtools.crm_simulator.store import now
from shared.routes import Router


def _error(description: str) -> dict[str, Any]:
    """An error answer as this CRM gives it: plain JSON with a `detail` text."""
    schema = {"type": "object", "properties": {"detail": {"type": "string"}}}
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: _error("Missing or wrong API key.")
}
NO_CASE: dict[int | str, dict[str, Any]] = {404: _error("No case with this id.")}
BAD_BODY: dict[int | str, dict[str, Any]] = {400: _error("The body cannot be decoded.")}

IdempotencyKey = Annotated[
    str | SkipJsonSchema[None],
    Header(
        max_length=200,
        description="The caller's id of this request: a repeat changes nothing.",
    ),
]


async def check_key(
    sim: Sim,
    authorization: Annotated[str | SkipJsonSchema[None], Header()] = None,
) -> None:
    settings = sim.settings
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    if key and authorization != f"Bearer {key}":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong API key")


def get_case(sim: Simulator, case_id: str) -> Case:
    case = sim.store.cases.get(case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return case


cases = Router(tags=["cases"], dependencies=[Depends(check_key)], route_class=APIRoute)


@cases.post(
    "/api/cases",
    status_code=status.HTTP_201_CREATED,
    summary="Create a case",
    responses={**UNAUTHORIZED, **BAD_BODY},
    description="Opens a case in status NEW. Like many real CRMs it does not deduplicate "
    "by default: creating twice with the same external_ref gives two cases. In the "
    "idempotent mode (`idempotent_creates` of `PUT /_sim/faults`, or the setting) it "
    "returns the case it has.",
)
async def create_case(data: CaseCreate, sim: Sim) -> Case:
    return await sim.store.create(data, idempotent=sim.faults.faults.idempotent_creates)


@cases.get(
    "/api/cases",
    summary="Find cases",
    responses=UNAUTHORIZED,
    description="All cases, or those with the given external reference, oldest first.",
)
async def list_cases(
    sim: Sim,
    external_ref: Annotated[
        str | SkipJsonSchema[None], Query(description="The caller's own id.")
    ] = None,
) -> list[Case]:
    return [
        c for c in sim.store.cases.values() if external_ref in (None, c.external_ref)
    ]


@cases.get(
    "/api/cases/{case_id}",
    summary="Read a case",
    responses={**UNAUTHORIZED, **NO_CASE},
    description="One case with its status history.",
)
async def read_case(case_id: str, sim: Sim) -> Case:
    return get_case(sim, case_id)


@cases.post(
    "/api/cases/{case_id}/status",
    summary="Change a case's status",
    responses={**UNAUTHORIZED, **NO_CASE, **BAD_BODY},
    description="What a field worker does. The change is sent to the webhook URL as a "
    "signed webhook in the background, retried until the receiver acknowledges it.",
)
async def change_status(case_id: str, change: StatusChange, sim: Sim) -> Case:
    case = get_case(sim, case_id)
    sim.set_status(case, change.status, change.note)
    return case


@cases.post(
    "/api/cases/{case_id}/reopen",
    summary="Reopen a case",
    responses={**UNAUTHORIZED, **NO_CASE, **BAD_BODY},
    description="The reporter says it is not fixed: the case goes to REOPENED, whatever "
    "its status, with the comment as the note of the change, and the change is sent as "
    "a signed webhook like any other. A repeat with the same `Idempotency-Key` returns "
    "the case unchanged.",
)
async def reopen_case(
    case_id: str,
    reopen: Reopen,
    sim: Sim,
    idempotency_key: IdempotencyKey = None,
) -> Case:
    case = get_case(sim, case_id)
    if sim.store.first_time(case, idempotency_key):
        sim.set_status(case, CaseStatus.REOPENED, reopen.comment)
    return case


@cases.post(
    "/api/cases/{case_id}/comments",
    summary="Comment on a case",
    responses={**UNAUTHORIZED, **NO_CASE, **BAD_BODY},
    description="Adds a comment from the public to the case without changing its "
    "status (no webhook). A repeat with the same `Idempotency-Key` adds nothing.",
)
async def comment_case(
    case_id: str,
    comment: CommentCreate,
    sim: Sim,
    idempotency_key: IdempotencyKey = None,
) -> Case:
    case = get_case(sim, case_id)
    if sim.store.first_time(case, idempotency_key):
        case.comments.append(CaseComment(comment=comment.comment, added_at=now()))
    return case


@cases.delete(
    "/api/cases/{case_id}/reporter",
    summary="Erase the reporter's contact data",
    responses={**UNAUTHORIZED, **NO_CASE},
    description="The resident erased their account: their name and e-mail are removed "
    "from the case. Doing it again changes nothing.",
)
async def erase_reporter(case_id: str, sim: Sim) -> Case:
    case = get_case(sim, case_id)
    case.reporter = None
    return case


@cases.get(
    "/api/updates",
    summary="Status changes in order",
    responses=UNAUTHORIZED,
    description="Every status change of every case after the sequence number `after`, "
    "oldest first, each as its webhook carries it plus its `seq`: for a client that "
    "polls instead of (or besides) receiving webhooks.",
)
async def list_updates(
    sim: Sim,
    after: Annotated[
        int, Query(ge=0, description="The last sequence number the caller has.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Update]:
    return sim.store.updates[after : after + limit]


control = Router(route_class=APIRoute)


@control.get(
    "/api/webhooks",
    tags=["webhooks"],
    summary="Webhook deliveries",
    description="Every webhook sent, with its attempts and whether it was acknowledged.",
)
async def list_deliveries(sim: Sim) -> list[WebhookDelivery]:
    return list(sim.store.deliveries.values())


def _faults_read(sim: Simulator) -> FaultsRead:
    faults = sim.faults
    return FaultsRead(**faults.faults.model_dump(), injected=faults.injected)


@control.get(
    "/_sim/faults",
    tags=["simulator"],
    summary="The faults in force",
    description="The fault rules still in force (a rule with a `count` disappears once "
    "used up), the create mode and the webhook faults, with how often each kind of "
    "fault was injected since the last reset.",
)
async def read_faults(sim: Sim) -> FaultsRead:
    return _faults_read(sim)


@control.put(
    "/_sim/faults",
    tags=["simulator"],
    summary="Set the faults",
    description="Replaces the faults in force. Request faults apply to the CRM "
    "operations of the REST API and of Open311 (create, read, reopen, comment, erase), "
    "never to the `/_sim/` endpoints or to status changes made as a field worker.",
    responses=BAD_BODY,
)
async def set_faults(wanted: Faults, sim: Sim) -> FaultsRead:
    sim.faults.faults = wanted.model_copy(deep=True)
    return _faults_read(sim)


@control.delete(
    "/_sim/faults",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["simulator"],
    summary="Reset the faults",
    description="No faults, creates as the setting says, webhooks sent once, as made "
    "(changes already held back are still sent), and the injection counts at zero.",
)
async def reset_faults(sim: Sim) -> None:
    sim.faults.reset()
