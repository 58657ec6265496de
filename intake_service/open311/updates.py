"""`POST servicerequestupdates` (mySociety's extension): a client's comment on a request,
or its reopening, for the city's CRM case; see `update_service` for what each does."""

from __future__ import annotations

import datetime as dt

from fastapi import Request, Response

from intake_service.deps import SettingsDep
from intake_service.open311 import openapi
from intake_service.open311.documents import render_list
from intake_service.open311.exceptions import Open311Invalid
from intake_service.open311.form import SentForm, check_api_key
from intake_service.open311.params import (
    PREFIX,
    ROUTE_CLASS,
    FormatDep,
    Jurisdiction,
    ensure_jurisdiction,
    w3c_date,
)
from intake_service.open311.update_service import (
    MAX_COMMENT,
    STATUSES,
    PostedUpdate,
    post_update,
)
from shared.deps import SessionDep
from shared.i18n import N_, Np_
from shared.routes import Router

router = Router(prefix=PREFIX, tags=["open311"], route_class=ROUTE_CLASS)

MAX_UPDATE_ID = 100
"""The longest `update_id` kept."""


@router.post(
    "/servicerequestupdates.{fmt}",
    summary="Post an update on a request (mySociety extension)",
    description=openapi.POST_UPDATE_DESCRIPTION,
    dependencies=[Jurisdiction],
    responses=openapi.POST_UPDATE_RESPONSES,
    response_class=Response,
    openapi_extra=openapi.POST_UPDATE_BODY,
)
async def post_request_update(
    request: Request, session: SessionDep, settings: SettingsDep, fmt: FormatDep
) -> Response:
    # Files (a client's photo uploads) are read past and not kept.
    async with request.form(
        max_files=settings.photo_max_count + 1, max_fields=200, max_part_size=64 * 1024
    ) as form:
        sent = SentForm.of(form)
    ensure_jurisdiction(settings, sent.text("jurisdiction_id"))
    client = await check_api_key(session, settings, sent.text("api_key"))
    update_id = await post_update(session, _update(sent, client))
    return render_list(
        fmt,
        "service_request_updates",
        "request_update",
        [{"update_id": str(update_id)}],
    )


def _update(sent: SentForm, client: str) -> PostedUpdate:
    """The update's fields, checked; a 400 names the first one wrong."""
    for name in ("service_request_id", "update_id", "status", "description"):
        if not sent.text(name):
            raise Open311Invalid(N_("{field}: required."), field=name)
    for name, longest in (("update_id", MAX_UPDATE_ID), ("description", MAX_COMMENT)):
        if len(sent.text(name)) > longest:
            raise Open311Invalid(
                Np_(
                    "{field}: at most {count} character.",
                    "{field}: at most {count} characters.",
                ),
                field=name,
                count=longest,
            )
    # As posted (upper case), or as the update feed writes them (lower case).
    status = sent.text("status")
    status = status.upper() if status == status.lower() else status
    if status not in STATUSES:
        raise Open311Invalid(
            N_("{field}: one of {values}."), field="status", values=", ".join(STATUSES)
        )
    updated_at = w3c_date(sent.text("updated_datetime"), "updated_datetime")
    if updated_at is None:
        raise Open311Invalid(N_("{field}: required."), field="updated_datetime")
    return PostedUpdate(
        client=client,
        update_id=sent.text("update_id"),
        service_request_id=sent.text("service_request_id"),
        status=status,
        description=sent.text("description"),
        updated_at=updated_at.astimezone(dt.UTC),
    )
