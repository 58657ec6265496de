"""The adapter's `cases` table as it was before routing versions, to fill old databases
that a migration then upgrades."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

cases = sa.table(
    "cases",
    sa.column("id", sa.Uuid),
    sa.column("report_id", sa.Uuid),
    sa.column("report_number"),
    sa.column("category"),
    sa.column("description"),
    sa.column("attributes", sa.JSON),
    sa.column("lat"),
    sa.column("lon"),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("unit_code"),
    sa.column("connector"),
    sa.column("state"),
    sa.column("crm_version"),
    sa.column("status"),
    sa.column("status_version"),
    sa.column("attempts"),
    sa.column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def a_case(category: str, unit: str | None, now: dt.datetime) -> dict:
    """A row of `cases`: pending on the REST JSON CRM if routed to `unit`, else unroutable."""
    return {
        "id": uuid.uuid4(),
        "report_id": uuid.uuid4(),
        "report_number": "WRO-2026-000001",
        "category": category,
        "description": "Dziura",
        "attributes": {},
        "lat": 51.11,
        "lon": 17.03,
        "submitted_at": now,
        "due_at": now + dt.timedelta(days=7),
        "unit_code": unit,
        "connector": "rest_json" if unit else None,
        "state": "pending" if unit else "unroutable",
        "crm_version": 0,
        "status": "received",
        "status_version": 0,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
