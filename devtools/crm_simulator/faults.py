"""Faults the simulated CRM can be told to inject, for testing the adapter's reliability.

Set through the simulator's own API (`GET/PUT/DELETE /_sim/faults`), they stand in for the
toxiproxy toxics and fake-CRM failures of RELIABILITY §7.2. Request faults are applied by a
middleware to every operation of the CRM's protocols (the REST API under `/api/` and Open311
under `/open311/v2/`), never to the simulator's own endpoints (`/_sim/`, a field worker's
status changes, the docs):

- `error`: answer with an error status (503 by default) without doing anything;
- `latency`: add a delay, then handle the request;
- `timeout`: hang far longer than any client waits (nothing is done);
- `reset_after_commit`: handle the request (its effect is kept), start the answer and drop
  the connection before the body: the ambiguous failure that makes duplicates;
- `throttle`: 429 with `Retry-After`.

Each rule fires with a probability (`rate`), optionally only `count` times, and only for some
operations. Webhook faults send each change twice and/or hold changes back to send them
newest first or shuffled.
"""

from __future__ import annotations

import asyncio
import enum
import json
import random
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.params import WholeNumber, whole_number


class Operation(enum.StrEnum):
    CREATE = "create"
    READ = "read"
    REOPEN = "reopen"
    COMMENT = "comment"
    ERASE = "erase"


# (method, path pattern) → operation. Open311's service request updates are both reopens
# and comments (the form body tells them apart; a fault matches either).
_OPERATIONS: list[tuple[str, re.Pattern[str], tuple[Operation, ...]]] = [
    ("POST", re.compile(r"^/api/cases/?$"), (Operation.CREATE,)),
    ("GET", re.compile(r"^/api/cases(/[^/]+)?/?$"), (Operation.READ,)),
    ("GET", re.compile(r"^/api/updates/?$"), (Operation.READ,)),
    ("POST", re.compile(r"^/api/cases/[^/]+/reopen/?$"), (Operation.REOPEN,)),
    ("POST", re.compile(r"^/api/cases/[^/]+/comments/?$"), (Operation.COMMENT,)),
    ("DELETE", re.compile(r"^/api/cases/[^/]+/reporter/?$"), (Operation.ERASE,)),
    ("POST", re.compile(r"^/open311/v2/requests\.\w+$"), (Operation.CREATE,)),
    (
        "POST",
        re.compile(r"^/open311/v2/servicerequestupdates\.\w+$"),
        (Operation.REOPEN, Operation.COMMENT),
    ),
    ("GET", re.compile(r"^/open311/v2/"), (Operation.READ,)),
]


def operations_of(method: str, path: str) -> tuple[Operation, ...]:
    """The CRM operations a request is, or () for the simulator's own endpoints."""
    for wanted, pattern, operations in _OPERATIONS:
        if method == wanted and pattern.match(path):
            return operations
    return ()


# Request bodies take JSON's own types only (a number for a number, `true`/`false` for a
# flag, JSON numbers like 1 for seconds too): no text or flags read as numbers.


class FaultRule(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "error", "rate": 0.3, "operations": ["create"]},
                {"kind": "reset_after_commit", "count": 2, "operations": ["create"]},
                {"kind": "throttle", "count": 1, "retry_after_seconds": 5},
            ]
        },
    )

    kind: Literal["error", "latency", "timeout", "reset_after_commit", "throttle"]
    rate: StrictFloat = Field(
        default=1.0, ge=0, le=1, description="Probability that a request is hit."
    )
    count: Annotated[StrictInt, Field(ge=1), BeforeValidator(whole_number)] | None = (
        Field(
            default=None,
            description="Fire at most this many times, then the rule is gone; null: no limit.",
        )
    )
    operations: list[Operation] | None = Field(
        default=None, description="Only these operations; null: all of them."
    )
    status: Annotated[
        StrictInt, Field(ge=400, le=599), BeforeValidator(whole_number)
    ] = Field(default=503, description="`error`: the status answered.")
    latency_seconds: StrictFloat = Field(
        default=1.0, ge=0, le=600, description="`latency`: the delay added."
    )
    hang_seconds: StrictFloat = Field(
        default=300.0, ge=0, le=3600, description="`timeout`: how long to hang."
    )
    retry_after_seconds: WholeNumber = Field(
        default=1, ge=0, description="`throttle`: the `Retry-After` sent."
    )


class WebhookFaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duplicate: StrictBool = Field(
        default=False, description="Send each change twice (same id, same body)."
    )
    order: Literal["as_made", "newest_first", "shuffled"] = Field(
        default="as_made",
        description="`newest_first` / `shuffled`: hold changes back for `hold_seconds` "
        "after the first one, then send the batch in that order.",
    )
    hold_seconds: StrictFloat = Field(default=0.5, ge=0, le=60)


class Faults(BaseModel):
    """What the simulator does wrong, and whether its creates are idempotent."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "rules": [
                        {"kind": "error", "rate": 0.3, "operations": ["create"]},
                        {"kind": "reset_after_commit", "count": 3},
                    ],
                    "idempotent_creates": False,
                    "webhooks": {"duplicate": True, "order": "shuffled"},
                }
            ]
        },
    )

    rules: list[FaultRule] = Field(
        default_factory=list,
        description="Tried in order for each request: every matching `latency` adds its "
        "delay, the first other rule that fires decides the answer.",
    )
    idempotent_creates: StrictBool = Field(
        default=False,
        description="True: a create with an `external_ref` the CRM has returns that case; "
        "false (like many real CRMs): it makes a second case.",
    )
    webhooks: WebhookFaults = Field(default_factory=WebhookFaults)


class FaultState:
    """The faults in force, and what they did (for tests to check)."""

    def __init__(self, *, idempotent_creates: bool) -> None:
        self._default_idempotent = idempotent_creates
        self.faults = Faults(idempotent_creates=idempotent_creates)
        self.injected: dict[str, int] = {}

    def reset(self) -> None:
        self.faults = Faults(idempotent_creates=self._default_idempotent)
        self.injected = {}

    def pick(self, operations: tuple[Operation, ...]) -> tuple[float, FaultRule | None]:
        """The latency to add and the rule deciding the answer, consuming their counts."""
        latency = 0.0
        chosen = None
        for rule in list(self.faults.rules):
            if rule.operations is not None and not set(operations) & set(
                rule.operations
            ):
                continue
            if rule.rate < 1 and random.random() >= rule.rate:
                continue
            if rule.kind != "latency" and chosen is not None:
                continue
            if rule.count is not None:
                rule.count -= 1
                if rule.count == 0:
                    self.faults.rules.remove(rule)
            self.injected[rule.kind] = self.injected.get(rule.kind, 0) + 1
            if rule.kind == "latency":
                latency += rule.latency_seconds
            else:
                chosen = rule
        return latency, chosen


class ConnectionDropped(Exception):
    """Raised after the answer started: the server closes the connection mid-answer."""


async def _answer(
    send: Send, status: int, body: dict[str, str], headers: dict[str, str]
) -> None:
    content = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json")]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        operations = operations_of(scope["method"], scope["path"])
        if not operations:
            await self.app(scope, receive, send)
            return
        latency, rule = self.state.pick(operations)
        if latency:
            await asyncio.sleep(latency)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "error":
            await _answer(send, rule.status, {"detail": "injected fault"}, {})
        elif rule.kind == "throttle":
            await _answer(
                send,
                429,
                {"detail": "too many requests (injected)"},
                {"retry-after": str(rule.retry_after_seconds)},
            )
        elif rule.kind == "timeout":
            await asyncio.sleep(rule.hang_seconds)
            await _answer(send, 504, {"detail": "injected timeout"}, {})
        else:
            await self._reset_after_commit(scope, receive, send)

    async def _reset_after_commit(
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        start: Message | None = None

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message

        await self.app(scope, receive, hold)
        # The request took effect. Announce the answer, then never send its body: the
        # server drops the connection, and the client cannot tell what happened.
        if start is not None:
            await send(start)
        raise ConnectionDropped("connection dropped after the request took effect")
