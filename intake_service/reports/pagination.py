"""Opaque keyset cursors for report lists (pure)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

from intake_service.reports.exceptions import InvalidCursor
from intake_service.reports.repository import PageKey


def encode_cursor(key: PageKey) -> str:
    raw = json.dumps([key.created_at.isoformat(), str(key.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, report_id = json.loads(raw)
        key = PageKey(
            created_at=dt.datetime.fromisoformat(created_at), id=uuid.UUID(report_id)
        )
    except (ValueError, TypeError) as exc:
        raise InvalidCursor() from exc
    if key.created_at.tzinfo is None:
        raise InvalidCursor()
    return key
