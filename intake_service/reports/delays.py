"""What a resident is told of their report's way into the city's CRM being held up.

Two hand-overs can hold it up. Intake's own to the CRM adapter: the report's
`report.submitted.v1` in intake's outbox, failing for longer than the notice period since the
report was filed, or dead; read when the report is read, from that one row (by the outbox's
index on the report id). And the adapter's to the CRM, which the adapter tells of
(`report.delivery_delayed.v1`, kept on the report by `intake_service.status.delays`). Either
shows as one short, calm note in the resident's language while the report is `received`:
once the CRM has it, nothing is late.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db import OutboxEvent
from intake_service.reports.models import Report
from shared.contracts import ReportStatus
from shared.db import utcnow
from shared.i18n import N_, translate
from shared.outbox import DEAD, IN_FLIGHT, PENDING

HELD_UP = N_(
    "The city's system is not answering just now. Your report is safe and will be "
    "passed on as soon as it answers."
)
STOPPED = N_(
    "Passing your report on has stopped. The city's staff have been alerted and will "
    "send it again."
)

HANDOVER = "report.submitted.v1"
"""The event that hands a report over to the adapter."""


@dataclass(frozen=True)
class Delay:
    since: dt.datetime
    dead: bool


class DelayRead(BaseModel):
    """The report has not reached the city's CRM yet, for longer than it should."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "note": "The city's system is not answering just now. Your report "
                    "is safe and will be passed on as soon as it answers.",
                    "since": "2026-12-07T09:00:05Z",
                    "dead": False,
                }
            ]
        }
    )

    note: str = Field(description="A sentence for the resident, in their language.")
    since: dt.datetime = Field(
        description="Since when passing it on has failed (or, held back by an outage, "
        "has waited)."
    )
    dead: bool = Field(
        description="True: passing it on stopped until the city's staff send it again; "
        "false: it is tried again by itself."
    )

    @classmethod
    def of(cls, delay: Delay, lang: str) -> Self:
        note = STOPPED if delay.dead else HELD_UP
        return cls(note=translate(note, lang), since=delay.since, dead=delay.dead)


def told_delay(report: Report) -> Delay | None:
    """The delay the adapter told of, while the report is `received`."""
    if report.status != ReportStatus.RECEIVED or report.delivery_delayed_since is None:
        return None
    return Delay(report.delivery_delayed_since, report.delivery_dead)


async def delays_of(
    session: AsyncSession, reports: Sequence[Report], *, notice_minutes: float
) -> dict[uuid.UUID, Delay]:
    """The delays of those of `reports` held up, by report id: intake's own hand-over
    first (the adapter cannot have told of a report it does not have yet), else the
    adapter's word."""
    found = {r.id: d for r in reports if (d := told_delay(r)) is not None}
    received = [r.id for r in reports if r.status == ReportStatus.RECEIVED]
    if received:
        cutoff = utcnow() - dt.timedelta(minutes=notice_minutes)
        found |= await _handovers_held_up(session, received, cutoff=cutoff)
    return found


async def _handovers_held_up(
    session: AsyncSession, report_ids: Sequence[uuid.UUID], *, cutoff: dt.datetime
) -> dict[uuid.UUID, Delay]:
    """The reports whose hand-over in intake's outbox is dead, or has failed (an attempt
    ended without it, or a second is under way) and was written before `cutoff`."""
    o = OutboxEvent
    failed = or_(
        and_(o.status == PENDING, o.attempts > 0),
        and_(o.status == IN_FLIGHT, o.attempts > 1),
    )
    rows = await session.execute(
        select(o.aggregate_id, o.status, o.created_at).where(
            o.aggregate_id.in_(report_ids),
            o.event_type == HANDOVER,
            or_(o.status == DEAD, and_(failed, o.created_at <= cutoff)),
        )
    )
    return {
        report_id: Delay(since=created_at, dead=status == DEAD)
        for report_id, status, created_at in rows
    }
