"""The interface every CRM connector implements, and the errors it raises.

CrmError                   (`status`: the HTTP status, when there was an answer)
├── CrmUnavailable         timeout, connection error, an unreadable answer, 5xx, 408, 409,
│   │                      425, 429: retried with backoff, honouring Retry-After
│   └── CrmUnauthorized    401, 403: our credentials (a key rotation): retried, and the
│                          connector's circuit breaker opens at once, so no delivery burns
│                          attempts until someone fixes the key
└── CrmRejected            every other 4xx (400, 404, 410, 413, 422, ...): the CRM refuses
                           this request, resending it cannot help: dead at once
                           (RELIABILITY §4.2)

`error_for_status` is this classification, for every connector to use.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable


class CrmError(Exception):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CrmUnavailable(CrmError):
    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class CrmUnauthorized(CrmUnavailable):
    pass


class CrmRejected(CrmError):
    pass


RETRIED_CLIENT_ERRORS = frozenset({408, 409, 425, 429})
"""4xx answers that say "not now" rather than "never": timeout, conflict (a concurrent
change, or a create the CRM already has: the retry looks it up first), too early, throttled."""


def error_for_status(
    status: int, message: str, *, retry_after: float | None = None
) -> CrmError:
    """The error for a non-2xx answer (see the tree above)."""
    if status in (401, 403):
        return CrmUnauthorized(message, retry_after=retry_after, status=status)
    if 400 <= status < 500 and status not in RETRIED_CLIENT_ERRORS:
        return CrmRejected(message, status=status)
    return CrmUnavailable(message, retry_after=retry_after, status=status)


@dataclass(frozen=True)
class CaseDraft:
    """What the CRM gets to open a case; `external_ref` is intake's report id."""

    external_ref: uuid.UUID
    number: str
    category: str
    unit: str
    description: str
    attributes: Mapping[str, str | int | float | bool]
    lat: float
    lon: float
    reported_at: dt.datetime
    reporter: Mapping[str, str] | None = None
    """Name, e-mail and language, only when the resident agreed to share them."""
    photo_ids: Sequence[str] = ()
    """Intake's ids of the report's photos; connectors hand the CRM signed links to them."""


@dataclass(frozen=True)
class CrmCase:
    case_id: str
    status: str
    version: int | None = None


CHANGE_LIMITS: Mapping[str, int] = {
    "update_id": 200,
    "case_id": 100,
    "external_ref": 200,
    "status": 50,
}
"""The longest each text field of a `CrmStatusChange` may be, in characters: the shortest of
the columns it is stored in (the inbox, the case, a held change). A connector declares these
on the models it reads the CRM with; `too_long` checks any change before it is stored, as
SQLite would store a longer value and PostgreSQL refuse the whole transaction."""


@dataclass(frozen=True)
class CrmStatusChange:
    """A status change as the CRM reports it, before mapping to our statuses."""

    update_id: str
    case_id: str
    external_ref: str | None
    status: str
    note: str | None
    version: int | None
    changed_at: dt.datetime


def too_long(change: CrmStatusChange) -> str | None:
    """Which field of the change is longer than `CHANGE_LIMITS` allows, and by how much
    (None when each fits)."""
    for field, limit in CHANGE_LIMITS.items():
        value = getattr(change, field)
        if value is not None and len(value) > limit:
            return f"{field}: {len(value)} characters, at most {limit}"
    return None


class CrmConnector(Protocol):
    name: str

    async def create_case(self, draft: CaseDraft) -> CrmCase: ...

    async def find_case(self, external_ref: uuid.UUID) -> CrmCase | None: ...

    async def reopen(
        self, case_id: str, *, comment: str | None, request_id: uuid.UUID
    ) -> None:
        """Reopen the case: its reporter says it is not fixed. `request_id` is the same on
        every attempt, so a CRM that honours it reopens once however often it is sent."""
        ...

    async def add_comment(
        self, case_id: str, *, comment: str, request_id: uuid.UUID
    ) -> None:
        """Add the reporter's comment to the case, without changing its status."""
        ...

    async def erase_contact(self, case_id: str, *, request_id: uuid.UUID) -> None:
        """Remove the reporter's contact data from the case (the resident erased their
        account). A CRM that cannot do it answers so, and the action ends dead for an
        operator to follow up by hand."""
        ...

    def parse_webhook(self, body: bytes) -> CrmStatusChange:
        """The status change a webhook's body carries; ValueError when it carries none in
        this CRM's format."""
        ...


class PolledChange(NamedTuple):
    change: CrmStatusChange
    raw: str
    """The CRM's own text of the change, kept in the inbox."""


class PolledPage(NamedTuple):
    changes: Sequence[PolledChange]
    """The changes read, oldest first."""
    cursor: str
    """Where the next poll goes on from."""
    more: bool = False
    """The CRM has more changes after this page: poll again at once."""


@runtime_checkable
class PollingConnector(Protocol):
    """A connector that can also list the CRM's changes (for CRMs without webhooks, and as a
    backstop for lost webhooks)."""

    name: str

    async def poll_changes(self, cursor: str | None) -> PolledPage:
        """The changes since `cursor` (None: the first poll), oldest first, and the cursor
        to go on from. Windows may overlap: every change carries the CRM's update id, and
        a change read twice is stored once."""
        ...
