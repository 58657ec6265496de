"""The case list as a CSV file, streamed a batch at a time: it may hold years of cases.

Each batch is read in a short transaction of its own (on SQLite every transaction holds the
write lock while it lasts), in the list's order, after the last case of the batch before,
so a slow download holds nothing in the database and no case is read twice or skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.monitoring import repository
from crm_adapter.monitoring.repository import CaseFilter
from shared.contracts import ReportStatus
from shared.csv_export import Cell, safe_cell
from shared.pagination import PageKey

BATCH = 1000
"""Cases read in one transaction."""


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_row(row: Row[tuple[Any, ...]], *, now: dt.datetime) -> list[Cell]:
    """A case's cells, in the order of `CASES_CSV_HEADER`."""
    status = ReportStatus(row.status)
    return [
        str(row.id),
        str(row.report_id),
        row.report_number,
        row.category,
        row.unit_code,
        row.connector,
        row.crm_case_id,
        row.crm_status,
        status.value,
        str(row.state),
        row.attempts,
        row.last_error,
        _time(row.failing_since),
        str(row.delay_told) if row.delay_told is not None else None,
        _time(row.submitted_at),
        _time(row.created_at),
        _time(row.due_at),
        "true" if not status.is_closed and row.due_at < now else "false",
        _time(row.closed_at),
        _time(row.updated_at),
    ]


async def case_rows(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    filters: CaseFilter,
    now: dt.datetime,
) -> AsyncIterator[list[list[Cell]]]:
    """The filtered cases' rows, newest first, a batch at a time."""
    batch = BATCH
    after: PageKey | None = None
    while True:
        async with sessionmaker() as session:
            rows = await repository.exported_cases(
                session, filters=filters, now=now, after=after, limit=batch
            )
        if rows:
            yield [case_row(row, now=now) for row in rows]
        if len(rows) < batch:
            return
        after = PageKey(rows[-1].submitted_at, rows[-1].id)


def _lines(rows: Sequence[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


async def csv_lines(
    header: Sequence[str], batches: AsyncIterator[list[list[Cell]]]
) -> AsyncIterator[bytes]:
    """The file as `shared.csv_export.render` makes it (a byte order mark, then a header
    row, no cell run as a formula), a batch of rows at a time."""
    yield ("\ufeff" + _lines([list(header)])).encode("utf-8")
    async for rows in batches:
        yield _lines(rows).encode("utf-8")
