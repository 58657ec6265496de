"""/admin/status-mappings and /admin/unmapped: the CRM codes' meaning, and the changes held
because a code had none."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response, status

from crm_adapter.operators.dependencies import ManageOperator, ReadOperator
from crm_adapter.statuses import service
from crm_adapter.statuses.exceptions import StatusMappingNotFound, UnknownConnector
from crm_adapter.statuses.schemas import (
    HeldChangeRead,
    ReapplyResult,
    StatusMappingRead,
    StatusMappingSet,
    StatusMappingWrite,
    UnmappedCode,
    UnmappedOverview,
)
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing
from shared.routes import Router

router = Router(prefix="/admin", tags=["admin"])

ConnectorPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=50,
        description="The CRM connector, as units name it.",
        examples=["rest_json"],
    ),
]
CodePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=50,
        pattern=r"^[^\x00\s](.*[^\x00\s])?$",
        description="The CRM's status code, as the CRM spells it.",
        examples=["ON_HOLD"],
    ),
]
ConnectorQuery = Annotated[
    str | None,
    Query(max_length=50, description="Only this connector's.", examples=["rest_json"]),
]
CodeQuery = Annotated[
    str | None,
    Query(max_length=50, description="Only this CRM code's.", examples=["ON_HOLD"]),
]

READ_ERRORS = (OperatorNotAuthenticated, OperatorRoleMissing, ValidationFailed)


@router.get(
    "/status-mappings",
    summary="The status mapping",
    description="Each connector's CRM status codes with the canonical status each means "
    "(`received`, `submitted`, `in_progress`, `resolved`, `rejected`, `reopened`), who "
    "changed it last and when; by connector and code. A change whose code is not here is "
    "held for an operator (`GET /admin/unmapped`), never guessed. Needs the `read` role.",
    responses=problem_responses(*READ_ERRORS),
)
async def list_status_mappings(
    session: SessionDep, operator: ReadOperator, connector: ConnectorQuery = None
) -> list[StatusMappingRead]:
    rows = await service.list_mappings(session, connector)
    return [StatusMappingRead.model_validate(row) for row in rows]


@router.put(
    "/status-mappings/{connector}/{code}",
    summary="Map a CRM status code",
    description="Sets (or changes) the canonical status a connector's CRM code means, from "
    "the next change on. The changes held because the code had no mapping are applied at "
    "once, in the order they came, each through the usual rules (one older than what its "
    "case has by then changes nothing), so their reporters hear the new status; "
    "`reapplied` says how many. Recorded in the audit log. Needs the `manage` role.",
    responses=problem_responses(*READ_ERRORS, UnknownConnector),
)
async def put_status_mapping(
    session: SessionDep,
    operator: ManageOperator,
    connector: ConnectorPath,
    code: CodePath,
    data: StatusMappingWrite,
) -> StatusMappingSet:
    mapping, reapplied = await service.set_mapping(
        session, operator, connector=connector, code=code, status=data.status
    )
    return StatusMappingSet(
        **StatusMappingRead.model_validate(mapping).model_dump(), reapplied=reapplied
    )


@router.delete(
    "/status-mappings/{connector}/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Unmap a CRM status code",
    description="Removes the code's mapping: its later changes are held for an operator "
    "again. The connector's default mapping does not bring it back on the next `migrate`. "
    "Recorded in the audit log. Needs the `manage` role.",
    responses={
        204: {"description": "Removed."},
        **problem_responses(*READ_ERRORS, StatusMappingNotFound),
    },
)
async def delete_status_mapping(
    session: SessionDep,
    operator: ManageOperator,
    connector: ConnectorPath,
    code: CodePath,
) -> Response:
    await service.delete_mapping(session, operator, connector=connector, code=code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/unmapped",
    summary="Changes held for an unmapped code",
    description="The CRM status changes whose code had no mapping when they came: per "
    "connector and code, how many are held and since when (the longest waiting first), and "
    "the held changes themselves, oldest first. Their cases keep the status their residents "
    "see; each case records the raw code. Mapping the code (`PUT /admin/status-mappings/"
    "{connector}/{code}`) applies them. Needs the `read` role.",
    responses=problem_responses(*READ_ERRORS),
)
async def list_unmapped(
    session: SessionDep,
    operator: ReadOperator,
    connector: ConnectorQuery = None,
    code: CodeQuery = None,
    limit: Annotated[
        int, Query(ge=1, le=500, description="How many held changes to list.")
    ] = 100,
) -> UnmappedOverview:
    codes, items = await service.unmapped(
        session, connector=connector, code=code, limit=limit
    )
    return UnmappedOverview(
        codes=[UnmappedCode.model_validate(c, from_attributes=True) for c in codes],
        items=[
            HeldChangeRead(
                id=held.id,
                connector=held.connector,
                crm_code=held.crm_code,
                report_id=report_id,
                crm_case_id=held.crm_case_id,
                update_id=held.update_id,
                version=held.version,
                note=held.note,
                changed_at=held.changed_at,
                held_at=held.held_at,
            )
            for held, report_id in items
        ],
    )


@router.post(
    "/unmapped/reapply",
    summary="Apply held changes whose code is mapped now",
    description="Mapping a code applies its held changes at once; this applies those left "
    "over: changes held while the mapping was being set, or whose code got a mapping "
    "another way (a new default on `migrate`). Optionally only one connector's, or one "
    "code's. In the order they came, through the usual rules (one older than what its case "
    "has by then changes nothing). Changes whose code is still unmapped stay held "
    "(`still_held`). Recorded in the audit log. Needs the `manage` role.",
    responses=problem_responses(*READ_ERRORS),
)
async def reapply_held(
    session: SessionDep,
    operator: ManageOperator,
    connector: ConnectorQuery = None,
    code: CodeQuery = None,
) -> ReapplyResult:
    reapplied, still_held = await service.reapply(
        session, operator, connector=connector, code=code
    )
    return ReapplyResult(reapplied=reapplied, still_held=still_held)
