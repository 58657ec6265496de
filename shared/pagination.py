"""Opaque keyset cursors for lists read newest first (pure)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass

from shared.errors import AppError
from shared.i18n import N_
from shared.params import in_range


class InvalidCursor(AppError):
    status_code = 422
    code = "invalid-cursor"
    title = N_("Invalid page cursor")
    detail = N_("Pass the next_cursor of the previous page unchanged.")


@dataclass(frozen=True)
class PageKey:
    """Where a page ends: the last row's creation time and id (newest first)."""

    created_at: dt.datetime
    id: uuid.UUID


def encode_cursor(key: PageKey) -> str:
    raw = json.dumps([key.created_at.isoformat(), str(key.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = json.loads(raw)
        moment = dt.datetime.fromisoformat(created_at)
        if moment.tzinfo is None:
            raise ValueError("no time zone")
        key = PageKey(created_at=in_range(moment), id=uuid.UUID(row_id))
    # A hand-made cursor can nest deeper than the JSON parser recurses.
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidCursor() from exc
    return key
