"""Updates an Open311 client posts on a request (mySociety's `POST servicerequestupdates`):
a comment for the city's CRM case, or a reopening, as a resident's feedback reaches it.

What an update does follows its `status` (upper case, as clients post it) and the report's:

- `OPEN` or `REOPEN` on a **resolved** report reopens it, as its reporter's "not fixed"
  would: `reopened` at once, with intake's own history entry (counting down from 0, outside
  the adapter's sequence), `pending_reopen_id` set so that changes the adapter sent before
  it took the reopen are set aside (see `intake_service.status.service`), and
  `report.reopen_requested.v1` to the adapter with the description as the comment. A
  rejected report is not reopened (residents cannot overrule the unit), and neither is one
  open already: those get a comment.
- Anything else is a comment: `report.comment_added.v1`, whose `fixed` is true only when
  the status says the problem is gone (`FIXED`, or `CLOSED`, which plain FixMyStreet posts
  when its user marks the problem fixed) and false otherwise (the poster says it is still
  there, or says nothing about it).

Both events require a rating from 1 to 5, which a resident gives with their feedback and an
Open311 update never has: they carry `NEUTRAL_RATING`, and no feedback row is written, so
the units' feedback figures never count it. The poster's `email` and names are not kept:
the events carry no contact, and the report's contact is the one sent when it was filed.
An update is kept under the client's own `update_id` (per client key), so the same update
sent again gets the same answer and sends nothing twice; another update under that id is
refused. Comments are for the unit and are not shown publicly (nor in the update feed); a
reopening shows there as the report's status change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.notifications.models import NotificationKind
from intake_service.notifications.service import add_notification
from intake_service.open311.exceptions import RequestNotFound, UpdateIdTaken
from intake_service.open311.models import Open311Update
from intake_service.reports import repository as reports
from intake_service.reports.models import Report
from intake_service.reports.reopening import reopen, send
from shared.contracts import (
    ReportCommentAddedV1,
    ReportStatus,
)
from shared.db import utcnow

logger = logging.getLogger(__name__)

STATUSES = (
    "OPEN",
    "CLOSED",
    "FIXED",
    "IN_PROGRESS",
    "PLANNED",
    "ACTION_SCHEDULED",
    "INVESTIGATING",
    "DUPLICATE",
    "NOT_COUNCILS_RESPONSIBILITY",
    "NO_FURTHER_ACTION",
    "INTERNAL_REFERRAL",
    "CANCELLED",
    "REOPEN",
    "FOR_TRIAGE",
    "UNCHANGED",
)
"""The statuses of the mySociety extension, as posted."""

REOPENING = frozenset({"OPEN", "REOPEN"})
"""Statuses that say a closed problem is back."""

FIXED = frozenset({"FIXED", "CLOSED"})
"""Statuses that say the problem is gone."""

NEUTRAL_RATING = 3
"""The rating of an update's comment or reopen: the middle of 1 to 5 (none was given)."""

MAX_COMMENT = 2000
"""The longest description the events carry."""


@dataclass(frozen=True)
class PostedUpdate:
    """An update as the client posted it, checked; `client` is its key's name."""

    client: str
    update_id: str
    service_request_id: str
    status: str
    description: str
    updated_at: dt.datetime

    def fingerprint(self) -> str:
        """What the update says (not who posted it): a retry says the same."""
        said = [
            self.service_request_id,
            self.status,
            self.description,
            self.updated_at.astimezone(dt.UTC).isoformat(),
        ]
        return hashlib.sha256(json.dumps(said).encode()).hexdigest()


async def post_update(session: AsyncSession, update: PostedUpdate) -> uuid.UUID:
    """Pass the update on to the CRM case (once per `update_id`); the update's id."""
    if (known := await _known(session, update)) is not None:
        return known
    report_id = await session.scalar(
        select(Report.id).where(Report.number == update.service_request_id)
    )
    report = (
        await reports.get(session, report_id, for_update=True) if report_id else None
    )
    if report is None:
        raise RequestNotFound(service_request_id=update.service_request_id)
    now = utcnow()
    update_id = uuid.uuid4()
    if update.status in REOPENING and _reopenable(report):
        action = "reopen"
        await _reopen(session, report, update_id, update.description, now=now)
    else:
        action = "comment"
        send(
            session,
            report,
            ReportCommentAddedV1(
                report_id=report.id,
                comment_id=update_id,
                comment=update.description,
                fixed=update.status in FIXED,
                rating=NEUTRAL_RATING,
                added_at=now,
            ),
            now=now,
        )
    session.add(
        Open311Update(
            id=update_id,
            client=update.client,
            update_id=update.update_id,
            report_id=report.id,
            action=action,
            status=update.status,
            fingerprint=update.fingerprint(),
            updated_at=update.updated_at,
            created_at=now,
        )
    )
    try:
        await session.commit()
    except IntegrityError:
        # The same update, posted twice at once: the first one's answer.
        await session.rollback()
        if (known := await _known(session, update)) is None:
            raise
        return known
    logger.info(
        "open311.update_posted",
        extra={"report_id": str(report.id), "action": action, "client": update.client},
    )
    return update_id


async def _known(session: AsyncSession, update: PostedUpdate) -> uuid.UUID | None:
    """The id of the update already taken under this `update_id`; 409 (Open311's 400) if it
    said something else."""
    known = await session.scalar(
        select(Open311Update).where(
            Open311Update.client == update.client,
            Open311Update.update_id == update.update_id,
        )
    )
    if known is None:
        return None
    if known.fingerprint != update.fingerprint():
        raise UpdateIdTaken(update_id=update.update_id)
    return known.id


def _reopenable(report: Report) -> bool:
    """A resolved report, with no reopen waiting for the adapter's answer."""
    return report.status == ReportStatus.RESOLVED and report.pending_reopen_id is None


async def _reopen(
    session: AsyncSession,
    report: Report,
    reopen_id: uuid.UUID,
    comment: str,
    *,
    now: dt.datetime,
) -> None:
    """Reopen for residents now, and ask the adapter to reopen the CRM case."""
    # The poster's words go to the unit only, as a reporter's comment does.
    sequence = reopen(
        session,
        report,
        comment=comment,
        rating=NEUTRAL_RATING,
        note=None,
        now=now,
        reopen_id=reopen_id,
    )
    # Everyone following the report hears of it, its reporter too: someone else reopened it.
    for account in await reports.followers(session, report):
        await add_notification(
            session,
            account=account,
            report=report,
            kind=NotificationKind.STATUS_CHANGED,
            sequence=sequence,
            status=ReportStatus.REOPENED,
        )
