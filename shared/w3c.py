"""Date-times as Open311 (GeoReport v2) writes them: W3C, with their time zone.

Our Open311 server, the adapter's Open311 client and the CRM simulator all read and write
them here, so that the three agree on what a date is.
"""

from __future__ import annotations

import datetime as dt
import re

_SPACED_OFFSET = re.compile(r" (\d{2}:\d{2})$")


def format_w3c(moment: dt.datetime) -> str:
    """A date-time as Open311 writes it: in UTC, to the second, with `Z`."""
    return (
        moment.astimezone(dt.UTC)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z")
    )


def parse_w3c(value: str, *, assume_utc: bool = False) -> dt.datetime:
    """A W3C date-time with its zone (`Z` or `±HH:MM`); ValueError for anything else.

    A `+` sent unencoded in a query arrives as a space, and is read as the `+` it was.
    With `assume_utc`, a date-time without a zone (as some CRMs answer) is taken as UTC.
    """
    text = _SPACED_OFFSET.sub(r"+\1", value.strip())
    parsed = dt.datetime.fromisoformat(text)
    if assume_utc:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if parsed.tzinfo is None or "T" not in text:
        raise ValueError("a date-time with its time zone is needed")
    return parsed
