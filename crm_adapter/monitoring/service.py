"""The operators' view of cases: lists (and their CSV file), one case, and the SLA figures
per unit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.cases.exceptions import CaseNotFound
from crm_adapter.cases.models import Case
from crm_adapter.monitoring import export, repository
from crm_adapter.monitoring.exceptions import EmptyPeriod
from crm_adapter.monitoring.repository import CaseFilter
from crm_adapter.monitoring.schemas import CASES_CSV_HEADER
from crm_adapter.monitoring.stats import UnitFigures, unit_figures
from shared.csv_export import Cell
from shared.pagination import PageKey, decode_cursor, encode_cursor

STATS_WINDOW = dt.timedelta(days=90)
"""The default window of the figures."""


async def list_cases(
    session: AsyncSession,
    *,
    filters: CaseFilter,
    now: dt.datetime,
    cursor: str | None,
    limit: int,
) -> tuple[list[Case], str | None]:
    """One page of cases, newest first, and the next page's cursor (None at the end)."""
    _check_period(filters)
    cases = await repository.list_cases(
        session,
        filters=filters,
        now=now,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    page, more = cases[:limit], len(cases) > limit
    next_cursor = (
        encode_cursor(PageKey(page[-1].submitted_at, page[-1].id)) if more else None
    )
    return page, next_cursor


def _check_period(filters: CaseFilter) -> None:
    if (
        filters.since is not None
        and filters.until is not None
        and filters.since >= filters.until
    ):
        raise EmptyPeriod()


async def export_cases(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    filters: CaseFilter,
    now: dt.datetime,
) -> AsyncIterator[bytes]:
    """Every case the filters match, as a CSV file streamed a batch at a time (each read
    in a session of its own from `sessionmaker`)."""
    _check_period(filters)
    # The request's session, which looked up the operator's key, lets go of its connection
    # now: on SQLite its transaction holds the write lock, which a download must not.
    await session.close()
    return export.csv_lines(
        CASES_CSV_HEADER, export.case_rows(sessionmaker, filters=filters, now=now)
    )


async def get_case(session: AsyncSession, case_or_report_id: uuid.UUID) -> Case:
    case = await repository.get_case(session, case_or_report_id)
    if case is None:
        raise CaseNotFound()
    return case


def stats_window(
    since: dt.datetime | None, until: dt.datetime | None, *, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The window asked for; by default the 90 days up to now (or up to `until`)."""
    end = until or now
    start = since or end - STATS_WINDOW
    if start >= end:
        raise EmptyPeriod()
    return start, end


async def figures(
    session: AsyncSession,
    *,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
) -> list[UnitFigures]:
    """Figures of the cases submitted in `[since, until)`, their open and late ones as of
    `now`."""
    cases = await repository.case_times(session, since=since, until=until)
    return unit_figures(cases, now=now)


def figures_csv(units: list[UnitFigures]) -> list[list[Cell]]:
    """One row per unit (its total, with an empty category) followed by one per category."""
    rows: list[list[Cell]] = []
    for unit in units:
        for category, item in [
            (None, unit),
            *((c.category, c) for c in unit.categories),
        ]:
            rows.append(
                [
                    unit.unit,
                    category,
                    item.received,
                    item.open,
                    item.overdue,
                    item.resolved,
                    item.rejected,
                    item.median_resolution_hours,
                    item.within_target_share,
                ]
            )
    return rows
