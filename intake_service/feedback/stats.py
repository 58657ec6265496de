"""Operators' figures on residents' feedback: per unit and per category, for a period.

`GET /v1/operator/feedback/summary` serves them to operators with a `read` key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.feedback import repository


@dataclass(frozen=True)
class FeedbackFigures:
    """Answers about one unit's (or one category's) closed reports."""

    code: str | None
    """The unit or category code; None for reports closed before a unit was known."""
    count: int
    average_rating: float
    """Mean rating, 1 to 5."""
    not_fixed_share: float
    """Share of answers saying "not fixed", 0 to 1."""


@dataclass(frozen=True)
class FeedbackSummary:
    since: dt.datetime
    until: dt.datetime
    by_unit: list[FeedbackFigures]
    by_category: list[FeedbackFigures]


async def feedback_summary(
    session: AsyncSession, *, since: dt.datetime, until: dt.datetime
) -> FeedbackSummary:
    """Figures of the answers first given from `since` (inclusive) to `until` (exclusive).

    An answer counts for the unit that handled the report when it was closed, with its
    current content (a changed answer counts as changed). Units and categories without
    answers in the period are left out.
    """
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("since and until must be timezone-aware")

    async def by(key: Literal["unit", "category"]) -> list[FeedbackFigures]:
        rows = await repository.figures(session, by=key, since=since, until=until)
        figures = [FeedbackFigures(*row) for row in rows]
        return sorted(figures, key=lambda f: (f.code is None, f.code or ""))

    return FeedbackSummary(
        since=since,
        until=until,
        by_unit=await by("unit"),
        by_category=await by("category"),
    )
