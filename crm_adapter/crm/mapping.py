"""Each connector's CRM status codes mapped onto our canonical statuses (data files)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from shared.contracts import ReportStatus

MAPPINGS_DIR = Path(__file__).with_name("mappings")


@cache
def status_map(connector: str) -> dict[str, ReportStatus]:
    raw: dict[str, str] = json.loads(
        (MAPPINGS_DIR / f"{connector}.json").read_text("utf-8")
    )
    return {code: ReportStatus(status) for code, status in raw.items()}


def canonical_status(connector: str, crm_status: str) -> ReportStatus | None:
    """Our status for the CRM's code, or None for a code nobody mapped (never guessed)."""
    return status_map(connector).get(crm_status)
