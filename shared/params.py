"""Types of query parameters that are stricter than pydantic's lax parsing of strings."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

from shared.i18n import N_

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_8601(value: Any) -> Any:
    # Lax pydantic reads "1700000000" or "0.5" as seconds since 1970: no client means that.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError(
            N_(
                "Give an ISO 8601 date and time with an offset or Z, e.g. 2026-11-28T10:00:00Z."
            )
        )
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]
"""An ISO 8601 date-time with its offset, e.g. `2026-11-28T10:00:00+01:00` or `…Z`."""
