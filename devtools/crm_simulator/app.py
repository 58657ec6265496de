"""The simulated CRM: cases in memory, status changes by hand, signed webhooks out.

It speaks its own vocabulary (`NEW`, `ASSIGNED`, `IN_PROGRESS`, …) as a real CRM would, takes
codes a city adds of its own (any upper-case code), and knows nothing of MAM beyond the
external reference it is given.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException

from devtools.crm_simulator import open311
from devtools.crm_simulator.config import Settings
from devtools.crm_simulator.faults import (
    FaultMiddleware,
    Faults,
    FaultState,
    WebhookFaults,
)
from shared.errors import allowed_methods
from shared.runtime import tls_context
from shared.signing import Signer

logger = logging.getLogger(__name__)


class CaseStatus(enum.StrEnum):
    NEW = "NEW"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    SCHEDULED = "SCHEDULED"
    DONE = "DONE"
    NOT_CITY_MATTER = "NOT_CITY_MATTER"
    DUPLICATE = "DUPLICATE"
    CANNOT_FIX = "CANNOT_FIX"
    REOPENED = "REOPENED"


def _text_date_time(value: object) -> object:
    """A date-time comes as text (or already as one), never as a number of seconds."""
    if isinstance(value, (str, dt.datetime)):
        return value
    raise ValueError("a date-time is an ISO 8601 text")


# What the request bodies take: JSON's own types (a number for a coordinate), no text read
# as a number nor a number as a date-time.
DateTimeText = Annotated[dt.datetime, BeforeValidator(_text_date_time)]


class Location(BaseModel):
    lat: StrictFloat
    lon: StrictFloat


class CaseCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "external_ref": "0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10",
                    "title": "WRO-2026-000042",
                    "category": "pothole",
                    "unit": "zdium",
                    "description": "Deep pothole on the right lane",
                    "location": {"lat": 51.1097, "lon": 17.0326},
                    "reported_at": "2026-11-28T08:00:00Z",
                }
            ]
        }
    )

    external_ref: str = Field(min_length=1, max_length=200)
    title: str = ""
    category: str
    unit: str
    description: str = ""
    attributes: dict[str, str | int | float | bool] = {}
    location: Location
    reported_at: DateTimeText | None = None
    reporter: dict[str, str] | None = Field(
        default=None, description="Who to contact, when the resident agreed."
    )
    photos: list[str] = Field(
        default=[], description="Links to the report's photos (time-limited)."
    )


StatusCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][A-Z0-9_]{0,49}$",
        description="One of the built-in codes (NEW, ASSIGNED, IN_PROGRESS, SCHEDULED, DONE, "
        "NOT_CITY_MATTER, DUPLICATE, CANNOT_FIX, REOPENED), or any other upper-case code, as "
        "a city adds its own to its CRM (e.g. ON_HOLD).",
        examples=["IN_PROGRESS"],
    ),
]


class HistoryEntry(BaseModel):
    status: StatusCode
    note: str | None
    changed_at: dt.datetime


class CaseComment(BaseModel):
    comment: str
    added_at: dt.datetime


class Case(BaseModel):
    case_id: str
    external_ref: str
    title: str
    category: str
    unit: str
    description: str
    attributes: dict[str, str | int | float | bool]
    location: Location
    reporter: dict[str, str] | None = None
    photos: list[str] = []
    channel: str = Field(
        default="rest",
        description="How the case came in: `rest` (its changes are sent as webhooks) or "
        "`open311` (its changes are read by polling).",
    )
    status: StatusCode
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    history: list[HistoryEntry]
    comments: list[CaseComment] = Field(
        default_factory=list, description="Comments from the public, oldest first."
    )


class StatusChange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "IN_PROGRESS", "note": "Ekipa w drodze"}]
        }
    )

    status: StatusCode
    note: str | None = Field(default=None, max_length=2000)


class Reopen(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"comment": "Dziura nadal jest, zasypano ją tylko piaskiem."}]
        }
    )

    comment: str | None = Field(default=None, max_length=2000)


class CommentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"comment": "Nadal stoi na chodniku."}]}
    )

    comment: str = Field(min_length=1, max_length=2000)


class Update(BaseModel):
    """A status change as the webhook carries it, numbered in the order of all changes."""

    seq: int
    update_id: str
    case_id: str
    external_ref: str
    status: StatusCode
    note: str | None
    version: int
    changed_at: dt.datetime


class WebhookDelivery(BaseModel):
    update_id: str
    case_id: str
    status: StatusCode
    attempts: int
    delivered: bool
    last_error: str | None


class FaultsRead(Faults):
    injected: dict[str, int] = Field(
        description="How many times each kind of fault fired since the last reset."
    )


class Store:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.deliveries: dict[str, WebhookDelivery] = {}
        self.updates: list[Update] = []
        # Idempotency keys of the requests that changed a case, and the case each changed.
        self.requests: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def create(self, data: CaseCreate, *, idempotent: bool = False) -> Case:
        async with self._lock:
            if idempotent:
                for existing in self.cases.values():
                    if existing.external_ref == data.external_ref:
                        return existing
            now = dt.datetime.now(dt.UTC)
            case = Case(
                case_id=f"CRM-{len(self.cases) + 1:06d}",
                external_ref=data.external_ref,
                title=data.title,
                category=data.category,
                unit=data.unit,
                description=data.description,
                attributes=data.attributes,
                location=data.location,
                reporter=data.reporter,
                photos=data.photos,
                status=CaseStatus.NEW,
                version=1,
                created_at=now,
                updated_at=now,
                history=[
                    HistoryEntry(status=CaseStatus.NEW, note=None, changed_at=now)
                ],
            )
            self.cases[case.case_id] = case
            return case


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    store = Store()
    signer = Signer(settings.webhook_secret.get_secret_value())
    tasks: set[asyncio.Task[None]] = set()
    faults = FaultState(idempotent_creates=settings.idempotent_creates)
    held: list[tuple[WebhookDelivery, bytes]] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=5.0), verify=tls_context()
        ) as client:
            app.state.client = client
            yield
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = FastAPI(
        title="MAM CRM simulator",
        version="0.1.0",
        description="Plays the city CRM for development and tests: receives cases, lets a "
        "person or a test change their status as a field worker would, and sends each change "
        "as a signed webhook (Standard Webhooks) to the adapter.",
        lifespan=lifespan,
    )
    app.add_middleware(FaultMiddleware, state=faults)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            headers["Allow"] = allowed_methods(request)
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=headers
        )

    async def check_key(
        authorization: Annotated[str | SkipJsonSchema[None], Header()] = None,
    ) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        if key and authorization != f"Bearer {key}":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "missing or wrong API key"
            )

    def get_case(case_id: str) -> Case:
        case = store.cases.get(case_id)
        if case is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
        return case

    def spawn(coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def dispatch(delivery: WebhookDelivery, body: bytes) -> None:
        """Send the change now, or hold it back with others (webhook faults)."""
        hooks = faults.faults.webhooks
        copies = [(delivery, body)] * (2 if hooks.duplicate else 1)
        if hooks.order == "as_made":
            for copy in copies:
                spawn(deliver(*copy))
            return
        held.extend(copies)
        if len(held) == len(copies):
            spawn(release_held(hooks))

    async def release_held(hooks: WebhookFaults) -> None:
        await asyncio.sleep(hooks.hold_seconds)
        batch = held[:]
        held.clear()
        if hooks.order == "shuffled":
            random.shuffle(batch)
        else:
            batch.reverse()
        for delivery, body in batch:
            await deliver(delivery, body)

    async def deliver(delivery: WebhookDelivery, body: bytes) -> None:
        client: httpx.AsyncClient = app.state.client
        for attempt in range(1, settings.webhook_attempts + 1):
            delivery.attempts = attempt
            headers = {
                "content-type": "application/json",
                **signer.headers(delivery.update_id, body),
            }
            try:
                response = await client.post(
                    settings.webhook_url, content=body, headers=headers
                )
            except Exception as exc:  # whatever failed, a CRM tries again
                delivery.last_error = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    delivery.delivered = True
                    delivery.last_error = None
                    return
                delivery.last_error = f"HTTP {response.status_code}"
            await asyncio.sleep(min(2**attempt * 0.5, 30))
        logger.error("webhook.gave_up", extra={"update_id": delivery.update_id})

    @app.post(
        "/api/cases",
        status_code=status.HTTP_201_CREATED,
        dependencies=[Depends(check_key)],
        tags=["cases"],
        summary="Create a case",
        responses={**UNAUTHORIZED, **BAD_BODY},
        description="Opens a case in status NEW. Like many real CRMs it does not deduplicate "
        "by default: creating twice with the same external_ref gives two cases. In the "
        "idempotent mode (`idempotent_creates` of `PUT /_sim/faults`, or the setting) it "
        "returns the case it has.",
    )
    async def create_case(data: CaseCreate) -> Case:
        return await store.create(data, idempotent=faults.faults.idempotent_creates)

    @app.get(
        "/api/cases",
        dependencies=[Depends(check_key)],
        tags=["cases"],
        summary="Find cases",
        responses=UNAUTHORIZED,
        description="All cases, or those with the given external reference, oldest first.",
    )
    async def list_cases(
        external_ref: Annotated[
            str | SkipJsonSchema[None], Query(description="The caller's own id.")
        ] = None,
    ) -> list[Case]:
        return [
            c for c in store.cases.values() if external_ref in (None, c.external_ref)
        ]

    @app.get(
        "/api/cases/{case_id}",
        dependencies=[Depends(check_key)],
        tags=["cases"],
        summary="Read a case",
        responses={**UNAUTHORIZED, **NO_CASE},
        description="One case with its status history.",
    )
    async def read_case(case_id: str) -> Case:
        return get_case(case_id)

    def set_status(request: Request, case: Case, status: str, note: str | None) -> None:
        """Change the case's status and send the change as a webhook in the background."""
        now = _now()
        case.status = status
        case.version += 1
        case.updated_at = now
        case.history.append(HistoryEntry(status=status, note=note, changed_at=now))
        update_id = str(uuid.uuid4())
        store.updates.append(
            Update(
                seq=len(store.updates) + 1,
                update_id=update_id,
                case_id=case.case_id,
                external_ref=case.external_ref,
                status=status,
                note=note,
                version=case.version,
                changed_at=now,
            )
        )
        if case.channel == "open311":
            return  # Open311 clients poll for changes
        payload = {
            "update_id": update_id,
            "case_id": case.case_id,
            "external_ref": case.external_ref,
            "status": status,
            "note": note,
            "version": case.version,
            "changed_at": now.isoformat(),
        }
        delivery = WebhookDelivery(
            update_id=update_id,
            case_id=case.case_id,
            status=status,
            attempts=0,
            delivered=False,
            last_error=None,
        )
        store.deliveries[update_id] = delivery
        dispatch(delivery, json.dumps(payload).encode())

    def first_time(case: Case, idempotency_key: str | None) -> bool:
        """False when a request with this key changed the case before."""
        if idempotency_key is None:
            return True
        if store.requests.get(idempotency_key) == case.case_id:
            return False
        store.requests[idempotency_key] = case.case_id
        return True

    @app.post(
        "/api/cases/{case_id}/status",
        dependencies=[Depends(check_key)],
        tags=["cases"],
        summary="Change a case's status",
        responses={**UNAUTHORIZED, **NO_CASE, **BAD_BODY},
        description="What a field worker does. The change is sent to the webhook URL as a "
        "signed webhook in the background, retried until the receiver acknowledges it.",
    )
    async def change_status(
        case_id: str, change: StatusChange, request: Request
    ) -> Case:
        case = get_case(case_id)
        set_status(request, case, change.status, change.note)
        return case

    @app.post(
        "/api/cases/{case_id}/reopen",
        dependencies=[Depends(check_key)],
        tags=["cases"],
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
        request: Request,
        idempotency_key: IdempotencyKey = None,
    ) -> Case:
        case = get_case(case_id)
        if first_time(case, idempotency_key):
            set_status(request, case, CaseStatus.REOPENED, reopen.comment)
        return case

    @app.post(
        "/api/cases/{case_id}/comments",
        dependencies=[Depends(check_key)],
        tags=["cases"],
        summary="Comment on a case",
        responses={**UNAUTHORIZED, **NO_CASE, **BAD_BODY},
        description="Adds a comment from the public to the case without changing its "
        "status (no webhook). A repeat with the same `Idempotency-Key` adds nothing.",
    )
    async def comment_case(
        case_id: str,
        comment: CommentCreate,
        idempotency_key: IdempotencyKey = None,
    ) -> Case:
        case = get_case(case_id)
        if first_time(case, idempotency_key):
            case.comments.append(CaseComment(comment=comment.comment, added_at=_now()))
        return case

    @app.delete(
        "/api/cases/{case_id}/reporter",
        dependencies=[Depends(check_key)],
        tags=["cases"],
        summary="Erase the reporter's contact data",
        responses={**UNAUTHORIZED, **NO_CASE},
        description="The resident erased their account: their name and e-mail are removed "
        "from the case. Doing it again changes nothing.",
    )
    async def erase_reporter(case_id: str) -> Case:
        case = get_case(case_id)
        case.reporter = None
        return case

    @app.get(
        "/api/updates",
        dependencies=[Depends(check_key)],
        tags=["cases"],
        summary="Status changes in order",
        responses=UNAUTHORIZED,
        description="Every status change of every case after the sequence number `after`, "
        "oldest first, each as its webhook carries it plus its `seq`: for a client that "
        "polls instead of (or besides) receiving webhooks.",
    )
    async def list_updates(
        after: Annotated[
            int, Query(ge=0, description="The last sequence number the caller has.")
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[Update]:
        return store.updates[after : after + limit]

    app.include_router(open311.router(store, settings, set_status))

    @app.get(
        "/api/webhooks",
        tags=["webhooks"],
        summary="Webhook deliveries",
        description="Every webhook sent, with its attempts and whether it was acknowledged.",
    )
    async def list_deliveries() -> list[WebhookDelivery]:
        return list(store.deliveries.values())

    @app.get(
        "/_sim/faults",
        tags=["simulator"],
        summary="The faults in force",
        description="The fault rules still in force (a rule with a `count` disappears once "
        "used up), the create mode and the webhook faults, with how often each kind of "
        "fault was injected since the last reset.",
    )
    async def read_faults() -> FaultsRead:
        return FaultsRead(**faults.faults.model_dump(), injected=faults.injected)

    @app.put(
        "/_sim/faults",
        tags=["simulator"],
        summary="Set the faults",
        description="Replaces the faults in force. Request faults apply to the CRM "
        "operations of the REST API and of Open311 (create, read, reopen, comment, erase), "
        "never to the `/_sim/` endpoints or to status changes made as a field worker.",
        responses=BAD_BODY,
    )
    async def set_faults(wanted: Faults) -> FaultsRead:
        faults.faults = wanted.model_copy(deep=True)
        return FaultsRead(**faults.faults.model_dump(), injected=faults.injected)

    @app.delete(
        "/_sim/faults",
        status_code=status.HTTP_204_NO_CONTENT,
        tags=["simulator"],
        summary="Reset the faults",
        description="No faults, creates as the setting says, webhooks sent once, as made "
        "(changes already held back are still sent), and the injection counts at zero.",
    )
    async def reset_faults() -> None:
        faults.reset()

    return app
