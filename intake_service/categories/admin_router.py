"""Operators' endpoints of the catalog: /v1/operator/catalog, categories and their groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response

from intake_service.categories import admin, repository
from intake_service.categories.admin_schemas import (
    CatalogRead,
    CategoryAdminRead,
    CategoryWrite,
    GroupRead,
    GroupWrite,
)
from intake_service.categories.exceptions import (
    CatalogFull,
    CategoryNotFound,
    GroupUnknown,
    RevisionChanged,
    RevisionRequired,
)
from intake_service.operators.dependencies import OperatorManageDep, OperatorReadDep
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated, OperatorRoleMissing
from shared.preconditions import IF_MATCH_PARAMETER, etag, etag_header
from shared.routes import Router

router = Router(prefix="/v1/operator", tags=["operator"])

CodePath = Annotated[
    str,
    Path(
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="Lower-case letters, digits and `_`, starting with a letter.",
        examples=["pothole"],
    ),
]

ETAG = etag_header(
    "The revision, quoted: send it as `If-Match` with the next PUT of the same thing."
)
WRITE_PROBLEMS = problem_responses(
    OperatorNotAuthenticated,
    OperatorRoleMissing,
    RevisionRequired,
    RevisionChanged,
    ValidationFailed,
)


PUT_DOC = (
    "Without `If-Match` a new one is made (201); an existing one is changed only with "
    "`If-Match` naming the revision read (428 without it, 412 when it changed since). "
    "Needs the `manage` role; recorded in the audit log."
)


@router.get(
    "/catalog",
    summary="The whole catalog",
    description="Every group, every category (active and retired) with its names in every "
    "language, attributes, target and revision, and the units as the adapter's routing "
    "table names them. The unit of a category is the routing's: change it in the "
    "adapter (`PUT /admin/routing`), which tells intake. Needs the `read` role.",
    responses=problem_responses(OperatorNotAuthenticated),
)
async def get_catalog(session: SessionDep, operator: OperatorReadDep) -> CatalogRead:
    return await admin.read_catalog(session)


@router.get(
    "/categories/{code}",
    summary="One category",
    description="The category with its names in every language; the `ETag` header is its "
    "revision, to send as `If-Match` with a change. Needs the `read` role.",
    responses={
        200: {"headers": ETAG},
        **problem_responses(OperatorNotAuthenticated, CategoryNotFound),
    },
)
async def get_category(
    code: CodePath, session: SessionDep, operator: OperatorReadDep, response: Response
) -> CategoryAdminRead:
    category = await repository.category(session, code)
    if category is None:
        raise CategoryNotFound(category=code)
    response.headers["ETag"] = etag(category.revision)
    return CategoryAdminRead.of(category)


@router.put(
    "/categories/{code}",
    summary="Make or change a category",
    description="The whole category: group, names in pl/en/de, target resolution time, "
    "duplicate radius, extra attributes, whether residents can choose it (`active`: "
    "false retires it; its reports keep it) and its place in the list. " + PUT_DOC + " "
    "Residents see the change within seconds; the adapter is told of it (its routing "
    "table lists categories no rule covers). A new category has no unit until the "
    "routing table gives it one: its reports wait for that, held.",
    status_code=200,
    responses={
        201: {"description": "Made.", "headers": ETAG, "model": CategoryAdminRead},
        200: {"headers": ETAG},
        **WRITE_PROBLEMS,
        **problem_responses(GroupUnknown, CatalogFull),
    },
    openapi_extra={"parameters": [{**IF_MATCH_PARAMETER, "required": False}]},
)
async def put_category(
    code: CodePath,
    body: CategoryWrite,
    request: Request,
    session: SessionDep,
    operator: OperatorManageDep,
    response: Response,
) -> CategoryAdminRead:
    category, created = await admin.put_category(
        session,
        operator,
        code=code,
        body=body,
        if_match=request.headers.get("if-match"),
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(category.revision)
    return CategoryAdminRead.of(category)


@router.put(
    "/category-groups/{code}",
    summary="Make or change a group of categories",
    description="A group's names in pl/en/de and its place among the groups. "
    + PUT_DOC,
    status_code=200,
    responses={
        201: {"description": "Made.", "headers": ETAG, "model": GroupRead},
        200: {"headers": ETAG},
        **WRITE_PROBLEMS,
    },
    openapi_extra={"parameters": [{**IF_MATCH_PARAMETER, "required": False}]},
)
async def put_group(
    code: CodePath,
    body: GroupWrite,
    request: Request,
    session: SessionDep,
    operator: OperatorManageDep,
    response: Response,
) -> GroupRead:
    group, created = await admin.put_group(
        session,
        operator,
        code=code,
        body=body,
        if_match=request.headers.get("if-match"),
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(group.revision)
    return GroupRead.of(group)
