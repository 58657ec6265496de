"""The Open311 GeoReport v2 connector, with the mySociety extensions FixMyStreet uses
(`servicerequestupdates`, extended statuses): the only code that knows Open311.

Requests go out form-encoded to `{base}/requests.{fmt}` (XML, which every server speaks, or
JSON by setting); answers and errors (`<errors><error><code/><description/>`) are read in
either format, XML through defusedxml.

Exactly once. Creating a request is not idempotent in Open311, so this connector relies on
what the server must offer, and a real Open311 CRM must offer all of it:

- our report id on the request: sent as `service_request_id_ext` (mySociety's name for the
  client's own id), and a look-up by it: `GET requests.{fmt}?service_request_id_ext=<id>`
  answering the requests that carry it, with `service_request_id_ext` echoed in each record.
  After an attempt whose answer we never saw, `find_case` asks this before creating again.
  Records that do not echo our id are never taken for ours: a server that ignores the
  parameter gives no match, and a lost answer can then mean a second request in that CRM.
- batch services (POST answers a `token`): `GET tokens/{token}.{fmt}` keeps answering until
  the request has its id. The token is stored (table `open311_tokens`, by report id) before
  it is polled, so a later attempt asks for the token instead of sending the request again.
- `POST servicerequestupdates.{fmt}` (mySociety) for reopens and comments, treating our
  `update_id` as the update's idempotency key: a repeat adds nothing.
- for status changes, `GET servicerequestupdates.{fmt}?start_date=` (mySociety); without it
  the connector reads core `GET requests.{fmt}` and makes one change per request and
  `updated_datetime` and status.

Statuses (`mappings/open311.json`): a change's `external_status_code` (the CRM's own code)
when the mapping knows it, else its status: mySociety's extended statuses, lower case. The
upper-case codes in the mapping are the simulator's; a deployment adds its CRM's.

Errors (classified as RELIABILITY §4.2 says):

CrmError (answers classified by `connector.error_for_status`, as for every connector)
├── CrmUnavailable   network errors, timeouts, unreadable answers, 5xx, 408, 409, 425, 429,
│                    with Retry-After; 401/403 (`CrmUnauthorized`: a key being rotated)
│                    are retried too and open the connector's circuit breaker
└── CrmRejected      every other 4xx (400 our request is wrong, 404 unknown service code or
                     request), and erasing the reporter's contact, which Open311 cannot do
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx
from opentelemetry.trace import SpanKind

from crm_adapter.crm.connector import (
    CHANGE_LIMITS,
    CaseDraft,
    CrmCase,
    CrmRejected,
    CrmStatusChange,
    CrmUnavailable,
    PolledChange,
    PolledPage,
    error_for_status,
)
from crm_adapter.crm.mapping import status_map
from crm_adapter.crm.open311_records import (
    errors_of,
    moment_of,
    polled_change,
    read_records,
    text_of,
)
from crm_adapter.crm.open311_tokens import TokenStore
from crm_adapter.crm.photos import PhotoLinks
from shared import tracing
from shared.db import utcnow
from shared.retry import parse_retry_after
from shared.w3c import format_w3c

logger = logging.getLogger(__name__)


REQUESTS_WINDOW = dt.timedelta(days=90)
"""How far back core `GET requests` may read (the spec's limit): its `start_date` filters on
when a request was made, so a status change on an older request is found only this way."""

_MAX_ID = CHANGE_LIMITS["case_id"]

PollSource = Literal["auto", "updates", "requests"]


class Open311Connector:
    name = "open311"

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        base_url: str,
        tokens: TokenStore,
        api_key: str | None = None,
        jurisdiction_id: str | None = None,
        fmt: Literal["xml", "json"] = "xml",
        timeout: float = 30.0,
        service_codes: Mapping[str, str] | None = None,
        photo_links: PhotoLinks | None = None,
        token_polls: int = 5,
        token_poll_seconds: float = 2.0,
        poll_source: PollSource = "auto",
        poll_overlap: dt.timedelta = dt.timedelta(hours=2),
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._api_key = api_key or None
        self._jurisdiction = jurisdiction_id or None
        self._fmt = fmt
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._service_codes = dict(service_codes or {})
        self._photo_links = photo_links
        self._token_polls = token_polls
        self._token_poll_seconds = token_poll_seconds
        self._poll_source: PollSource = poll_source
        self._poll_overlap = poll_overlap

    # -- HTTP ---------------------------------------------------------------------------

    def _url(self, resource: str) -> str:
        return f"{self._base_url}/{resource}.{self._fmt}"

    def _common(self) -> list[tuple[str, str]]:
        return [("jurisdiction_id", self._jurisdiction)] if self._jurisdiction else []

    def _keyed(self) -> list[tuple[str, str]]:
        key = [("api_key", self._api_key)] if self._api_key else []
        return key + self._common()

    async def _call(
        self,
        method: str,
        resource: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        form: Sequence[tuple[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """The answer's records (the children of its root element, or its JSON array)."""
        headers = {}
        content = None
        if form is not None:
            headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8"
            content = urlencode(form).encode()
        attributes = {"http.request.method": method, "mam.connector": self.name}
        # The CRM gets the trace of the report (or of the poll) in `traceparent`.
        with tracing.span(
            f"crm {method}", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            try:
                response = await self._client.request(
                    method,
                    self._url(resource),
                    params=list(params),
                    content=content,
                    headers=headers | tracing.trace_headers(),
                    timeout=self._timeout,
                )
            except httpx.HTTPError as exc:
                raise CrmUnavailable(f"{type(exc).__name__}: {exc}") from exc
            span.set_attribute("http.response.status_code", response.status_code)
        if not response.is_success:
            raise error_for_status(
                response.status_code,
                f"HTTP {response.status_code}: {errors_of(response, self._fmt)}",
                retry_after=parse_retry_after(
                    response.headers.get("retry-after"), utcnow()
                ),
            )
        try:
            return read_records(response.content, self._fmt)
        except ValueError as exc:
            # Unreadable: it stays open whether the CRM did it, so it is retried.
            raise CrmUnavailable(f"unexpected answer: {exc}") from exc

    # -- Cases ----------------------------------------------------------------------------

    def service_code(self, category: str) -> str:
        return self._service_codes.get(category, category)

    def _request_form(self, draft: CaseDraft) -> list[tuple[str, str]]:
        form = [
            *self._keyed(),
            ("service_code", self.service_code(draft.category)),
            ("lat", f"{draft.lat:.6f}"),
            ("long", f"{draft.lon:.6f}"),
            ("description", draft.description),
            ("service_request_id_ext", str(draft.external_ref)),
        ]
        for code, value in draft.attributes.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            form.append((f"attribute[{code}]", text))
        if draft.reporter:
            name = draft.reporter.get("name", "").strip()
            first, _, last = name.partition(" ")
            form.append(("email", draft.reporter.get("email", "")))
            form.append(("first_name", first))
            if last:
                form.append(("last_name", last))
        if draft.photo_ids and self._photo_links:
            form += [
                ("media_url", url) for url in self._photo_links.urls(draft.photo_ids)
            ]
        return form

    async def create_case(self, draft: CaseDraft) -> CrmCase:
        token = await self._tokens.get(draft.external_ref)
        if token is None:
            records = await self._call(
                "POST", "requests", form=self._request_form(draft)
            )
            record = records[0] if records else {}
            if case_id := text_of(record, "service_request_id"):
                return self._new_case(case_id)
            token = text_of(record, "token")
            if not token:
                raise CrmUnavailable(
                    "the answer holds neither a request id nor a token"
                )
            await self._tokens.put(draft.external_ref, token)
        return await self._await_token(draft.external_ref, token)

    @staticmethod
    def _new_case(case_id: str) -> CrmCase:
        if len(case_id) > _MAX_ID:
            raise CrmUnavailable(f"request id longer than {_MAX_ID}: {case_id[:50]}…")
        return CrmCase(case_id=case_id, status="open")

    async def _await_token(self, report_id: uuid.UUID, token: str) -> CrmCase:
        """The request behind a batch token, asked for a few times (FixMyStreet: 5 × 2 s);
        an unresolved token is left stored for the next attempt."""
        for attempt in range(max(self._token_polls, 1)):
            if attempt:
                await asyncio.sleep(self._token_poll_seconds)
            try:
                records = await self._call(
                    "GET", f"tokens/{quote(token, safe='')}", params=self._common()
                )
            except CrmRejected as exc:
                if exc.status != 404:
                    raise
                continue  # not known yet: batch servers may register tokens late
            for record in records:
                if case_id := text_of(record, "service_request_id"):
                    case = self._new_case(case_id)
                    await self._tokens.drop(report_id)
                    return case
        raise CrmUnavailable(f"token {token} not resolved yet")

    async def find_case(self, external_ref: uuid.UUID) -> CrmCase | None:
        token = await self._tokens.get(external_ref)
        if token is not None:
            # Sent and queued: never send it again, wait for the token.
            return await self._await_token(external_ref, token)
        records = await self._call(
            "GET",
            "requests",
            params=[*self._common(), ("service_request_id_ext", str(external_ref))],
        )
        ours = [
            r
            for r in records
            if text_of(r, "service_request_id_ext") == str(external_ref)
            and text_of(r, "service_request_id")
        ]
        if not ours:
            return None
        found = self._new_case(text_of(ours[0], "service_request_id"))
        return CrmCase(case_id=found.case_id, status=self.status_code(ours[0]))

    async def _post_update(
        self, case_id: str, *, status: str, description: str, request_id: uuid.UUID
    ) -> None:
        await self._call(
            "POST",
            "servicerequestupdates",
            form=[
                *self._keyed(),
                ("service_request_id", case_id),
                ("update_id", str(request_id)),
                ("status", status),
                ("description", description),
                ("updated_datetime", format_w3c(utcnow())),
            ],
        )

    async def reopen(
        self, case_id: str, *, comment: str | None, request_id: uuid.UUID
    ) -> None:
        await self._post_update(
            case_id,
            status="OPEN",
            description=comment or "The reporter says the problem is not fixed.",
            request_id=request_id,
        )

    async def add_comment(
        self, case_id: str, *, comment: str, request_id: uuid.UUID
    ) -> None:
        # Comments come only on cases the unit closed (a rejected report): the update says
        # so, as FixMyStreet's updates on closed problems do.
        await self._post_update(
            case_id, status="CLOSED", description=comment, request_id=request_id
        )

    async def erase_contact(self, case_id: str, *, request_id: uuid.UUID) -> None:
        raise CrmRejected(
            "Open311 has no way to erase a reporter's contact data from a request: ask the "
            f"unit to remove it from request {case_id} by hand"
        )

    def parse_webhook(self, body: bytes) -> CrmStatusChange:
        raise ValueError("Open311 CRMs send no webhooks: their changes are polled")

    # -- Status changes -------------------------------------------------------------------

    def status_code(self, record: Mapping[str, Any]) -> str:
        """The CRM's own code (`external_status_code`) when the mapping knows it, else the
        (mySociety extended) status, lower case as it is returned."""
        external = text_of(record, "external_status_code")
        if external and external in status_map(self.name):
            return external
        return text_of(record, "status").lower().replace(" ", "_")

    async def poll_changes(self, cursor: str | None) -> PolledPage:
        """Changes since the last poll started (`cursor`, a W3C time), read again from one
        overlap earlier; the next cursor is when this poll started."""
        started = utcnow()
        since = (moment_of(cursor) if cursor else None) or started
        start = since - self._poll_overlap
        if self._poll_source in ("auto", "updates"):
            try:
                changes = await self._poll_updates(start)
            except CrmRejected as exc:
                if self._poll_source == "updates" or exc.status not in (404, 405):
                    raise
                logger.info("open311.no_update_feed", extra={"error": str(exc)})
                self._poll_source = "requests"
            else:
                self._poll_source = "updates"
                return PolledPage(changes, format_w3c(started))
        return PolledPage(
            await self._poll_requests(start, started), format_w3c(started)
        )

    async def _poll_updates(self, start: dt.datetime) -> list[PolledChange]:
        key = [("api_key", self._api_key)] if self._api_key else []
        records = await self._call(
            "GET",
            "servicerequestupdates",
            params=[*key, *self._common(), ("start_date", format_w3c(start))],
        )
        changes = []
        for record in records:
            update_id = text_of(record, "update_id")
            if not update_id:
                continue  # FixMyStreet ignores these too: nothing to keep them apart by
            if text_of(record, "status").lower() == "unchanged" and not text_of(
                record, "external_status_code"
            ):
                continue  # no change of state
            change = polled_change(
                record, update_id, self.status_code(record), note_field="description"
            )
            if change is not None:
                changes.append(change)
        return sorted(changes, key=lambda c: c.change.changed_at)

    async def _poll_requests(
        self, start: dt.datetime, now: dt.datetime
    ) -> list[PolledChange]:
        records = await self._call(
            "GET",
            "requests",
            params=[
                *self._common(),
                ("start_date", format_w3c(now - REQUESTS_WINDOW)),
                ("end_date", format_w3c(now + dt.timedelta(minutes=5))),
            ],
        )
        changes = []
        for record in records:
            updated = moment_of(text_of(record, "updated_datetime"))
            if updated is None or updated < start:
                continue
            update_id = "|".join(
                (
                    text_of(record, "service_request_id"),
                    format_w3c(updated),
                    self.status_code(record),
                )
            )
            change = polled_change(
                record, update_id, self.status_code(record), note_field="status_notes"
            )
            if change is not None:
                changes.append(change)
        return sorted(changes, key=lambda c: c.change.changed_at)
