"""Queries on reports; never commits.

Here: numbering and writing new reports, and reading or changing one report (its
followers, its supporters). The public lists are in `listing_repository`, the look-up of
open reports nearby in `nearby_repository`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Table,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.accounts.models import Account
from intake_service.photos.models import Photo
from intake_service.reports.models import (
    Report,
    ReportCounter,
    ReportStatusChange,
    ReportSupporter,
)
from shared.db import (
    database_of,
    insert_rows,
    row_of,
    table_of,
    upsert_insert,
    utcnow,
)

# Years whose number sequence exists, per database (PostgreSQL only).
_sequences: set[tuple[URL, int]] = set()


async def next_number(session: AsyncSession, year: int) -> int:
    """The next report number of `year`, unique and increasing.

    On PostgreSQL a sequence per year hands it out without a lock, so reports filed at the
    same moment do not wait for each other's commits (a number can be skipped when a filing
    fails after taking it). On SQLite, where writers take turns anyway, a counter row does.
    """
    if session.get_bind().dialect.name == "postgresql":
        name = await _year_sequence(session, year)
        sequence = await session.scalar(text(f"SELECT nextval('{name}')"))
        return int(sequence)
    await session.execute(
        upsert_insert(session, ReportCounter)
        .values(year=year, last=0)
        .on_conflict_do_nothing()
    )
    number: int | None = await session.scalar(
        update(ReportCounter)
        .where(ReportCounter.year == year)
        .values(last=ReportCounter.last + 1)
        .returning(ReportCounter.last)
    )
    assert number is not None
    return number


async def _year_sequence(session: AsyncSession, year: int) -> str:
    """The name of `year`'s number sequence, created in the caller's transaction if new.

    A new sequence goes on from the year's counter row, which numbered reports before
    sequences did. It is remembered only once it is seen committed: a creating transaction
    may still roll back.
    """
    name = f"report_number_{year:04d}"
    known = (database_of(session), year)
    if known in _sequences:
        return name
    # One creator at a time (CREATE ... IF NOT EXISTS is not safe side by side); the others
    # wait for its commit and then find the sequence.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('report_number_sequences'))")
    )
    if await session.scalar(text("SELECT to_regclass(:name)"), {"name": name}):
        _sequences.add(known)
        return name
    last = await session.scalar(
        select(ReportCounter.last).where(ReportCounter.year == year)
    )
    await session.execute(text(f"CREATE SEQUENCE {name} START WITH {(last or 0) + 1}"))
    return name


async def insert_new(
    session: AsyncSession,
    report: Report,
    *,
    also: Sequence[tuple[Table, Sequence[dict[str, Any]]]] = (),
) -> None:
    """Write a new report with its photos and first history row, and the rows of `also`
    (its outbox event, its idempotency record), without the unit of work: nothing is read
    back, and `report` stays out of the session."""
    await insert_rows(
        session,
        [
            (table_of(Report), [row_of(report)]),
            (table_of(Photo), [row_of(photo) for photo in report.photos]),
            (
                table_of(ReportStatusChange),
                [row_of(change) for change in report.history],
            ),
            *also,
        ],
    )


async def get(
    session: AsyncSession, report_id: uuid.UUID, *, for_update: bool = False
) -> Report | None:
    query = select(Report).where(Report.id == report_id)
    if for_update:
        query = query.with_for_update(of=Report)
    return await session.scalar(query)


async def followers(session: AsyncSession, report: Report) -> list[Account]:
    """Who hears about the report's changes: its named reporter and its named supporters,
    once their e-mail address is verified."""
    supporters = select(ReportSupporter.account_id).where(
        ReportSupporter.report_id == report.id, ReportSupporter.account_id.is_not(None)
    )
    query = select(Account).where(
        or_(Account.id == report.reporter_id, Account.id.in_(supporters)),
        Account.email_verified_at.is_not(None),
    )
    return list((await session.scalars(query)).all())


async def add_supporter(
    session: AsyncSession,
    *,
    report_id: uuid.UUID,
    account_id: uuid.UUID | None,
    device_id: str | None,
) -> bool:
    """Record the support unless this account or device gave it before; True when new."""
    statement = (
        upsert_insert(session, ReportSupporter)
        .values(
            report_id=report_id,
            account_id=account_id,
            device_id=device_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(ReportSupporter.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None
