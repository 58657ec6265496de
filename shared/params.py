"""Types of parameters and body fields: stricter than pydantic's lax parsing of strings, and
as wide as the JSON Schema they are documented with."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StrictInt

from shared.i18n import N_

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_8601(value: Any) -> Any:
    # Lax pydantic reads "1700000000", "0.5" or a JSON number as seconds since 1970: no
    # client means that, and the schema promises a string.
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(
            N_(
                "Give an ISO 8601 date and time with an offset or Z, e.g. 2026-11-28T10:00:00Z."
            )
        )
    return value


EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def in_range(value: dt.datetime) -> dt.datetime:
    """The moment in UTC; ValueError outside 1970–9000 (nothing here is older, and the
    calendar's ends cannot be moved to another zone)."""
    try:
        moment = value.astimezone(dt.UTC)
    except OverflowError:
        moment = EARLIEST - dt.timedelta(days=1)
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(N_("Give a date and time between 1970 and 9000."))
    return moment


Timestamp = Annotated[
    AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(in_range)
]
"""An ISO 8601 date-time with its offset, e.g. `2026-11-28T10:00:00+01:00` or `…Z`."""


def whole_number(value: Any) -> Any:
    """JSON Schema's `integer` is any number without a fraction: 4.0 is the integer 4.

    Put limits before it (`Annotated[StrictInt, Field(ge=1), BeforeValidator(...)]`), so
    the JSON Schema shows them as `minimum` and `maximum`.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[StrictInt, BeforeValidator(whole_number)]
"""A JSON integer, `4` or `4.0`; never a string (`"4"`) nor a boolean."""
