"""The REST JSON connector: the only code that knows this CRM protocol's JSON."""

from __future__ import annotations

import uuid

import httpx
from pydantic import AwareDatetime, BaseModel, ValidationError

from crm_adapter.crm.connector import (
    CaseDraft,
    CrmCase,
    CrmRejected,
    CrmStatusChange,
    CrmUnavailable,
)
from shared.db import utcnow
from shared.retry import parse_retry_after

_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


class _Case(BaseModel):
    case_id: str
    status: str
    version: int | None = None


class _Webhook(BaseModel):
    update_id: str
    case_id: str
    external_ref: str | None = None
    status: str
    note: str | None = None
    version: int | None = None
    changed_at: AwareDatetime


class InvalidWebhook(ValueError):
    pass


class RestJsonConnector:
    name = "rest_json"

    def __init__(
        self, *, client: httpx.AsyncClient, base_url: str, api_key: str, timeout: float
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {api_key}"}
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))

    async def _request(
        self, method: str, path: str, **kwargs: object
    ) -> httpx.Response:
        try:
            response = await self._client.request(
                method,
                self._base_url + path,
                headers=self._headers,
                timeout=self._timeout,
                **kwargs,  # type: ignore[arg-type]
            )
        except httpx.HTTPError as exc:
            raise CrmUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in _RETRYABLE:
            raise CrmUnavailable(
                f"HTTP {response.status_code}: {response.text[:500]}",
                retry_after=parse_retry_after(
                    response.headers.get("retry-after"), utcnow()
                ),
            )
        if response.is_error:
            raise CrmRejected(f"HTTP {response.status_code}: {response.text[:500]}")
        return response

    async def create_case(self, draft: CaseDraft) -> CrmCase:
        payload = {
            "external_ref": str(draft.external_ref),
            "title": draft.number,
            "category": draft.category,
            "unit": draft.unit,
            "description": draft.description,
            "location": {"lat": draft.lat, "lon": draft.lon},
            "reported_at": draft.reported_at.isoformat(),
        }
        response = await self._request("POST", "/api/cases", json=payload)
        return self._case(response.json())

    async def find_case(self, external_ref: uuid.UUID) -> CrmCase | None:
        response = await self._request(
            "GET", "/api/cases", params={"external_ref": str(external_ref)}
        )
        cases = response.json()
        if not isinstance(cases, list):
            raise CrmRejected("GET /api/cases did not answer with a list")
        # A CRM that is not idempotent may hold several; the oldest is the one we keep.
        return self._case(cases[0]) if cases else None

    @staticmethod
    def _case(data: object) -> CrmCase:
        try:
            case = _Case.model_validate(data)
        except ValidationError as exc:
            raise CrmRejected(f"unexpected case JSON: {exc.errors()[:3]}") from exc
        return CrmCase(case_id=case.case_id, status=case.status, version=case.version)

    def parse_webhook(self, body: bytes) -> CrmStatusChange:
        try:
            hook = _Webhook.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidWebhook(str(exc.errors()[:3])) from exc
        return CrmStatusChange(
            update_id=hook.update_id,
            case_id=hook.case_id,
            external_ref=hook.external_ref,
            status=hook.status,
            note=hook.note,
            version=hook.version,
            changed_at=hook.changed_at,
        )
