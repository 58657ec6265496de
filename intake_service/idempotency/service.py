"""Looking up and recording first answers; the record joins the caller's transaction.

Keys are kept for 7 days, longer than the 24 h of the draft's examples and Stripe, because
phones queue reports offline for days. A validation error stores nothing, so a corrected retry
with the same key goes through; a crash before commit stores nothing either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.idempotency import repository
from intake_service.idempotency.exceptions import (
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
)
from shared.db import utcnow

RETENTION = dt.timedelta(days=7)
# At least 16 characters (a UUID has 36): the draft asks servers to refuse keys of low entropy,
# and anonymous reports share one scope, where two phones must never pick the same key.
_KEY = re.compile(r"[A-Za-z0-9_-]{16,255}")
HEADER_PATTERN = rf'^({_KEY.pattern}|"{_KEY.pattern}")$'
"""What `parse_key` takes, for the header's schema: a bare token or an RFC 8941 string."""


@dataclass(frozen=True)
class IdempotentRequest:
    scope: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]


def parse_key(header: str) -> str:
    """The key from the header; an RFC 8941 string (`"abc"`) or a bare token are accepted."""
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not _KEY.fullmatch(key):
        raise InvalidIdempotencyKey()
    return key


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def find_answer(
    session: AsyncSession, request: IdempotentRequest
) -> StoredAnswer | None:
    """The first answer to this key, or None; a key reused for other content is a 422."""
    record = await repository.answer(session, request.scope, request.key)
    if record is None:
        return None
    if record.expires_at <= utcnow():
        await repository.delete_record(session, request.scope, request.key)
        return None
    if record.request_fingerprint != request.fingerprint:
        raise IdempotencyKeyReused()
    return StoredAnswer(
        status=record.response_status, body=json.loads(record.response_body)
    )


def answer_row(
    request: IdempotentRequest,
    *,
    status: int,
    body: dict[str, Any],
    resource_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The record of the answer, for the caller to INSERT in its transaction (a concurrent
    request that recorded the same key first makes that INSERT fail)."""
    now = utcnow()
    return {
        "scope": request.scope,
        "key": request.key,
        "request_fingerprint": request.fingerprint,
        "response_status": status,
        "response_body": json.dumps(body, ensure_ascii=False),
        "resource_id": resource_id,
        "created_at": now,
        "expires_at": now + RETENTION,
    }
