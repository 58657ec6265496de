"""The moderation queue's keyset cursor: a page ends at a report with so many flags, the
first of them given then (pure)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass

from shared.pagination import InvalidCursor
from shared.params import in_range


@dataclass(frozen=True)
class QueueKey:
    """Where a page of the queue ends: the last report's open flags, its first flag's time
    and its id (the queue is ordered by these: most flags, oldest first flag, id)."""

    flags: int
    first_flagged_at: dt.datetime
    report_id: uuid.UUID


def encode_queue_cursor(key: QueueKey) -> str:
    raw = json.dumps(
        [key.flags, key.first_flagged_at.isoformat(), str(key.report_id)]
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_queue_cursor(cursor: str) -> QueueKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        flags, first, report_id = json.loads(raw)
        moment = dt.datetime.fromisoformat(first)
        if type(flags) is not int or not 0 < flags < 2**31 or moment.tzinfo is None:
            raise ValueError("not a queue position")
        return QueueKey(flags, in_range(moment), uuid.UUID(report_id))
    # A hand-made cursor can nest deeper than the JSON parser recurses.
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise InvalidCursor() from exc
