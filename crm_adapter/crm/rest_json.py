"""The REST JSON connector: the only code that knows this CRM protocol's JSON.

Answers are classified by `connector.error_for_status`: a 4xx other than 401/403 (breaker)
and 408/409/425/429 is a permanent rejection; 5xx, those four, timeouts and connection errors
are retried.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from opentelemetry.trace import SpanKind
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from crm_adapter.crm.connector import (
    CHANGE_LIMITS,
    CaseDraft,
    CrmCase,
    CrmStatusChange,
    CrmUnavailable,
    PolledChange,
    PolledPage,
    error_for_status,
)
from crm_adapter.crm.photos import PhotoLinks
from shared import tracing
from shared.db import utcnow
from shared.params import Timestamp
from shared.retry import parse_retry_after
from shared.text import Text

logger = logging.getLogger(__name__)

# Versions are below 2**63 (a signed 64-bit column). Said as `lt`: the OpenAPI document
# holds bounds as floats, and 2**63 - 1 as a float is 2**63, which is not taken.
_PAST_MAX_VERSION = 2**63


class _Case(BaseModel):
    case_id: Annotated[Text, Field(min_length=1, max_length=CHANGE_LIMITS["case_id"])]
    status: Annotated[Text, Field(min_length=1, max_length=CHANGE_LIMITS["status"])]
    version: Annotated[int, Field(ge=0, lt=_PAST_MAX_VERSION)] | None = None


_CASES = TypeAdapter(list[_Case])


def _crm_case(case: _Case) -> CrmCase:
    return CrmCase(case_id=case.case_id, status=case.status, version=case.version)


class _Webhook(BaseModel):
    """A status change of a case in the CRM; its version orders the changes of a case."""

    # Also the request body the adapter's OpenAPI document shows. The text fields are no
    # longer than the columns they are stored in (`CHANGE_LIMITS`).
    model_config = ConfigDict(title="CrmStatusWebhook")

    update_id: Annotated[
        Text,
        Field(
            min_length=1,
            max_length=CHANGE_LIMITS["update_id"],
            description="The CRM's id of the change: the same on every delivery of it.",
        ),
    ]
    case_id: Annotated[
        Text,
        Field(
            min_length=1,
            max_length=CHANGE_LIMITS["case_id"],
            description="The CRM's id of the case.",
        ),
    ]
    external_ref: (
        Annotated[
            Text,
            Field(
                max_length=CHANGE_LIMITS["external_ref"],
                description="The report id the case was opened with (ours, or another "
                "system's).",
            ),
        ]
        | None
    ) = None
    status: Annotated[
        Text,
        Field(
            min_length=1,
            max_length=CHANGE_LIMITS["status"],
            description="The CRM's status code.",
        ),
    ]
    note: (
        Annotated[Text, Field(max_length=4000, description="The unit's note.")] | None
    ) = None
    version: Annotated[
        int,
        Field(
            ge=1,
            lt=_PAST_MAX_VERSION,
            description="The case's version after the change (higher is newer).",
        ),
    ]
    changed_at: Annotated[
        Timestamp, Field(description="When the change was made, with its offset.")
    ]


class _Numbered(BaseModel):
    seq: Annotated[int, Field(ge=1, lt=_PAST_MAX_VERSION)]


class _Update(_Webhook, _Numbered):
    """One entry of the CRM's change list: the webhook it sent, numbered."""


# Each entry is read on its own: one the adapter cannot take is passed over, not allowed to
# fail every poll after it.
_ENTRIES = TypeAdapter(list[Any])


def webhook_schema() -> dict[str, Any]:
    """The JSON Schema of this protocol's webhook body, with the limits of its fields."""
    return _Webhook.model_json_schema()


POLL_PAGE = 200


class RestJsonConnector:
    name = "rest_json"

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: str,
        timeout: float,
        photo_links: PhotoLinks | None = None,
        poll_page: int = POLL_PAGE,
    ) -> None:
        self._client = client
        self._poll_page = poll_page
        self._photo_links = photo_links
        self._base_url = base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {api_key}"}
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))

    async def _request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: object,
    ) -> httpx.Response:
        attributes = {"http.request.method": method, "mam.connector": self.name}
        # The CRM gets the trace of the report (or of the poll) in `traceparent`.
        with tracing.span(
            f"crm {method}", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            try:
                response = await self._client.request(
                    method,
                    self._base_url + path,
                    headers=self._headers | (headers or {}) | tracing.trace_headers(),
                    timeout=self._timeout,
                    **kwargs,  # type: ignore[arg-type]
                )
            except httpx.HTTPError as exc:
                raise CrmUnavailable(f"{type(exc).__name__}: {exc}") from exc
            span.set_attribute("http.response.status_code", response.status_code)
        if not response.is_success:
            # Classified by `error_for_status`: a 4xx but 401/403/408/409/425/429 is dead
            # at once, everything else is retried.
            raise error_for_status(
                response.status_code,
                f"HTTP {response.status_code}: {response.text[:500]}",
                retry_after=parse_retry_after(
                    response.headers.get("retry-after"), utcnow()
                ),
            )
        return response

    async def create_case(self, draft: CaseDraft) -> CrmCase:
        payload = {
            "external_ref": str(draft.external_ref),
            "title": draft.number,
            "category": draft.category,
            "unit": draft.unit,
            "description": draft.description,
            "attributes": dict(draft.attributes),
            "location": {"lat": draft.lat, "lon": draft.lon},
            "reported_at": draft.reported_at.isoformat(),
        }
        if draft.reporter:
            payload["reporter"] = dict(draft.reporter)
        if draft.photo_ids and self._photo_links:
            payload["photos"] = self._photo_links.urls(draft.photo_ids)
        # The report id as the key too, for a CRM that honours it: a create it committed
        # after our timeout is not made twice.
        response = await self._request(
            "POST",
            "/api/cases",
            json=payload,
            headers={"idempotency-key": str(draft.external_ref)},
        )
        return self._case(response)

    async def reopen(
        self, case_id: str, *, comment: str | None, request_id: uuid.UUID
    ) -> None:
        await self._request(
            "POST",
            f"/api/cases/{quote(case_id, safe='')}/reopen",
            json={"comment": comment},
            headers={"idempotency-key": str(request_id)},
        )

    async def add_comment(
        self, case_id: str, *, comment: str, request_id: uuid.UUID
    ) -> None:
        await self._request(
            "POST",
            f"/api/cases/{quote(case_id, safe='')}/comments",
            json={"comment": comment},
            headers={"idempotency-key": str(request_id)},
        )

    async def erase_contact(self, case_id: str, *, request_id: uuid.UUID) -> None:
        await self._request(
            "DELETE",
            f"/api/cases/{quote(case_id, safe='')}/reporter",
            headers={"idempotency-key": str(request_id)},
        )

    async def find_case(self, external_ref: uuid.UUID) -> CrmCase | None:
        response = await self._request(
            "GET", "/api/cases", params={"external_ref": str(external_ref)}
        )
        try:
            cases = _CASES.validate_json(response.content)
        except ValidationError as exc:
            raise CrmUnavailable(f"unexpected answer: {exc.errors()[:3]}") from exc
        # A CRM that is not idempotent may hold several; the oldest is the one we keep.
        return _crm_case(cases[0]) if cases else None

    @staticmethod
    def _case(response: httpx.Response) -> CrmCase:
        # An answer we cannot read leaves it open whether the case exists: retry, which
        # looks it up first.
        try:
            return _crm_case(_Case.model_validate_json(response.content))
        except ValidationError as exc:
            raise CrmUnavailable(f"unexpected answer: {exc.errors()[:3]}") from exc

    def parse_webhook(self, body: bytes) -> CrmStatusChange:
        try:
            hook = _Webhook.model_validate_json(body)
        except ValidationError as exc:
            raise ValueError(str(exc.errors()[:3])) from exc
        return CrmStatusChange(
            update_id=hook.update_id,
            case_id=hook.case_id,
            external_ref=hook.external_ref,
            status=hook.status,
            note=hook.note,
            version=hook.version,
            changed_at=hook.changed_at,
        )

    async def poll_changes(self, cursor: str | None) -> PolledPage:
        """The CRM's changes after the sequence number `cursor` (the same changes it sends
        as webhooks, under the same update ids), one page at a time."""
        start = after = int(cursor) if cursor and cursor.isdigit() else 0
        response = await self._request(
            "GET", "/api/updates", params={"after": after, "limit": self._poll_page}
        )
        try:
            entries = _ENTRIES.validate_json(response.content)
        except ValidationError as exc:
            raise CrmUnavailable(f"unexpected answer: {exc.errors()[:3]}") from exc
        updates = []
        for entry in entries:
            try:
                updates.append(_Update.model_validate(entry))
            except ValidationError as exc:
                seq = _seq_of(entry)
                logger.warning(
                    "rest_json.unreadable_change",
                    extra={"seq": seq, "errors": _problems(exc)},
                )
                if seq is not None:
                    after = max(after, seq)
        changes = []
        for update in sorted(updates, key=lambda u: u.seq):
            webhook = update.model_dump(mode="json", exclude={"seq"})
            changes.append(
                PolledChange(
                    self.parse_webhook(json.dumps(webhook).encode()),
                    json.dumps(webhook, ensure_ascii=False),
                )
            )
            after = max(after, update.seq)
        # Until a page comes back empty: a CRM may serve fewer than asked. A cursor that
        # did not move means the CRM ignored it; asking again would loop.
        return PolledPage(changes, str(after), more=bool(entries) and after > start)


def _seq_of(entry: object) -> int | None:
    """The number of an entry of the change list, when it has a readable one."""
    try:
        return _Numbered.model_validate(entry).seq
    except ValidationError:
        return None


def _problems(exc: ValidationError) -> str:
    """Where and why an entry is unreadable, without its values (a note may name people)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
        for e in exc.errors(include_url=False, include_input=False)[:5]
    )
