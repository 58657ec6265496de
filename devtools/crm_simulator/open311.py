"""The simulator's Open311 GeoReport v2 side (with mySociety's `servicerequestupdates`),
over the same cases as its REST API: a request made here is a case there, and vice versa.

Every resource answers as `.xml` and `.json` (bare arrays), errors as Open311 errors with
400/403/404. Statuses are the core `open`/`closed`, with mySociety's extended status in the
update feed and the case's own code (`NEW`, `IN_PROGRESS`, …) as `external_status_code`.
Requests are realtime (POST answers the id) or, in batch mode, answered with a token that
resolves once its delay has passed (or when a test releases it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from devtools.crm_simulator import open311_docs as docs
from devtools.crm_simulator.models import CaseComment, CaseStatus
from devtools.crm_simulator.open311_format import Open311Error, error, field, render
from devtools.crm_simulator.open311_records import (
    PREFIX,
    REQUESTS_LIMIT,
    check_format,
    check_jurisdiction,
    check_key,
    discovery_document,
    find_cases,
    find_updates,
    new_case,
    read_form,
    record,
    service_list,
    update_record,
)
from devtools.crm_simulator.open311_state import Mode, make_case
from devtools.crm_simulator.state import Sim, Simulator
from shared.routes import Router

# As the CRMs it stands for, the simulator ignores query parameters it does not take.
router = Router(tags=["open311"], route_class=APIRoute)

Work = Callable[[str], Awaitable[Response]]


async def answer(request: Request, sim: Simulator, work: Work) -> Response:
    """`work`'s answer in the path's format, once the tokens due are resolved; an Open311
    error in that format (XML for an unknown one) when it fails as Open311 says."""
    fmt = request.path_params["fmt"]
    try:
        check_format(fmt)
        await sim.open311.resolve_due(sim.store)
        return await work(fmt)
    except Open311Error as exc:
        return error(fmt, exc)


@router.get(
    PREFIX + "/discovery.{fmt}",
    summary="Service discovery",
    description="Where the GeoReport v2 endpoint is and which formats it speaks.",
    openapi_extra=docs.DISCOVERY,
)
async def discovery(request: Request, sim: Sim) -> Response:
    async def work(fmt: str) -> Response:
        return discovery_document(str(request.base_url), fmt)

    return await answer(request, sim, work)


@router.get(
    PREFIX + "/services.{fmt}",
    summary="Service list",
    description="The service codes of the requests so far (any well-formed code is taken), all realtime or all batch.",
    openapi_extra=docs.SERVICES,
)
async def list_services(request: Request, sim: Sim) -> Response:
    async def work(fmt: str) -> Response:
        check_jurisdiction(sim.settings, request.query_params)
        codes = sorted({c.category for c in sim.store.cases.values()} | {"other"})
        found = service_list(codes, batch=sim.open311.mode.batch)
        return render(fmt, "services", "service", found)

    return await answer(request, sim, work)


@router.post(
    PREFIX + "/requests.{fmt}",
    summary="Create a service request",
    description="Form-encoded or multipart: `api_key`, `service_code`, `lat`, `long`, `description`, `attribute[CODE]`, `email`, `first_name`, `last_name`, `media_url` (repeatable) and `service_request_id_ext` (the client's own id, findable again with GET requests). Answers the request id, or a token in batch mode.",
    openapi_extra=docs.CREATE_REQUEST,
)
async def create_request(request: Request, sim: Sim) -> Response:
    async def work(fmt: str) -> Response:
        form = await read_form(request)
        check_key(sim.settings, form)
        check_jurisdiction(sim.settings, form)
        data = new_case(sim.settings, form)
        if sim.open311.mode.batch:
            token = sim.open311.hold(data)
            return render(fmt, "service_requests", "request", [{"token": token}])
        case = await make_case(sim.store, data)
        return render(
            fmt,
            "service_requests",
            "request",
            [{"service_request_id": case.case_id, "service_notice": "Thank you"}],
        )

    return await answer(request, sim, work)


@router.get(
    PREFIX + "/tokens/{token}.{fmt}",
    summary="Request id of a token",
    description="The request id once the batch service has made the request; until then the token alone.",
    openapi_extra=docs.READ_TOKEN,
)
async def read_token(request: Request, sim: Sim) -> Response:
    token = request.path_params["token"]

    async def work(fmt: str) -> Response:
        check_jurisdiction(sim.settings, request.query_params)
        if token in sim.open311.resolved:
            found = {"service_request_id": sim.open311.resolved[token], "token": token}
            return render(fmt, "service_requests", "request", [found])
        if token in sim.open311.pending:
            return render(fmt, "service_requests", "request", [{"token": token}])
        raise Open311Error(404, f"token {token} not found")

    return await answer(request, sim, work)


@router.get(
    PREFIX + "/requests.{fmt}",
    summary="Find service requests",
    description="By `service_request_id` (comma list) or `service_request_id_ext` (the client's id; either overrides the rest), else by `start_date`/`end_date` on when they were made (default the last 90 days), `status` (open, closed) and `service_code`; at most 1000, oldest first.",
    openapi_extra=docs.LIST_REQUESTS,
)
async def list_requests(request: Request, sim: Sim) -> Response:
    async def work(fmt: str) -> Response:
        query = request.query_params
        check_jurisdiction(sim.settings, query)
        cases = find_cases(list(sim.store.cases.values()), query)
        found = [record(c) for c in cases[:REQUESTS_LIMIT]]
        return render(fmt, "service_requests", "request", found)

    return await answer(request, sim, work)


@router.get(
    PREFIX + "/requests/{request_id}.{fmt}",
    summary="One service request",
    description="A list of one request; 404 for an unknown id.",
    openapi_extra=docs.READ_REQUEST,
)
async def read_request(request: Request, sim: Sim) -> Response:
    request_id = request.path_params["request_id"]

    async def work(fmt: str) -> Response:
        check_jurisdiction(sim.settings, request.query_params)
        case = sim.store.cases.get(request_id)
        if case is None:
            raise Open311Error(404, f"service request {request_id} not found")
        return render(fmt, "service_requests", "request", [record(case)])

    return await answer(request, sim, work)


@router.get(
    PREFIX + "/servicerequestupdates.{fmt}",
    summary="Status updates (mySociety)",
    description="Every status change after the case was made, by `start_date`/`end_date` on its time: `update_id`, `service_request_id`, the extended `status`, `external_status_code`, `description` (the note), `updated_datetime`.",
    openapi_extra=docs.LIST_UPDATES,
)
async def list_request_updates(request: Request, sim: Sim) -> Response:
    async def work(fmt: str) -> Response:
        query = request.query_params
        check_jurisdiction(sim.settings, query)
        found = [update_record(u) for u in find_updates(sim.store.updates, query)]
        return render(fmt, "service_request_updates", "request_update", found)

    return await answer(request, sim, work)


@router.post(
    PREFIX + "/servicerequestupdates.{fmt}",
    summary="Post an update (mySociety)",
    description="`api_key`, `service_request_id`, `update_id` (the client's id: a repeat adds nothing), `status`, `description`, `updated_datetime`. Status OPEN (or REOPEN) reopens the case with the description as its note; any other status adds the description as a comment.",
    openapi_extra=docs.POST_UPDATE,
)
async def create_request_update(request: Request, sim: Sim) -> Response:
    async def work(fmt: str) -> Response:
        form = await read_form(request)
        check_key(sim.settings, form)
        check_jurisdiction(sim.settings, form)
        found = [{"update_id": take_update(sim, form)}]
        return render(fmt, "service_request_updates", "request_update", found)

    return await answer(request, sim, work)


def take_update(sim: Simulator, form: FormData) -> str:
    """Reopen the case or comment on it as the update says, once per update id; the id
    the update is answered."""
    required = ("service_request_id", "update_id", "status", "description")
    missing = [n for n in required if not field(form, n)]
    if missing:
        raise Open311Error(400, f"{', '.join(missing)} not provided")
    case = sim.store.cases.get(field(form, "service_request_id"))
    if case is None:
        raise Open311Error(
            404, f"service request {field(form, 'service_request_id')} not found"
        )
    answers = sim.open311.update_answers
    key = f"open311-update:{field(form, 'update_id')}"
    if key not in answers:
        description = field(form, "description")
        if field(form, "status").upper() in ("OPEN", "REOPEN"):
            sim.set_status(case, CaseStatus.REOPENED, description)
            answers[key] = sim.store.updates[-1].update_id
        else:
            added_at = dt.datetime.now(dt.UTC)
            case.comments.append(CaseComment(comment=description, added_at=added_at))
            answers[key] = str(uuid.uuid4())
    return answers[key]


@router.get(
    "/open311/simulator",
    tags=["open311 simulator"],
    summary="Open311 mode",
    description="Whether requests are taken as a batch service, and how long tokens wait.",
)
async def read_mode(sim: Sim) -> Mode:
    return sim.open311.mode


@router.put(
    "/open311/simulator",
    tags=["open311 simulator"],
    summary="Switch the Open311 mode",
    description="For tests: batch or realtime from now on, and the delay of new tokens.",
    responses=docs.BAD_BODY,
)
async def set_mode(new: Mode, sim: Sim) -> Mode:
    mode = sim.open311.mode
    mode.batch = new.batch
    mode.token_delay_seconds = new.token_delay_seconds
    return mode


@router.post(
    "/open311/simulator/tokens/release",
    tags=["open311 simulator"],
    summary="Resolve every waiting token",
    description="For tests: the batch service makes every waiting request now. Answers how many.",
)
async def release_tokens(sim: Sim) -> dict[str, int]:
    return {"released": await sim.open311.release(sim.store)}
