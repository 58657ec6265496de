"""Per-unit SLA figures: how many cases, how many late, how fast they were closed (pure).

`GET /admin/stats` serves them to operators with a `read` key, for the cases submitted in
a window (by default the last 90 days).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.contracts import ReportStatus


@dataclass(frozen=True)
class CaseTimes:
    """What the figures need of one case."""

    unit: str | None
    category: str
    status: ReportStatus
    submitted_at: dt.datetime
    due_at: dt.datetime
    closed_at: dt.datetime | None


@dataclass
class Figures:
    """The figures of a set of cases submitted in the window, as they stand at `now`."""

    received: int = 0
    """Cases submitted in the window."""
    open: int = 0
    """Neither resolved nor rejected now (reopened ones included)."""
    overdue: int = 0
    """Open and past their due time now."""
    resolved: int = 0
    rejected: int = 0
    median_resolution_hours: float | None = None
    """Median time from submission to closing, over the closed ones; None if none is."""
    within_target_share: float | None = None
    """Share of the closed ones closed by their due time, 0 to 1; None if none is."""
    _durations: list[float] = field(default_factory=list, repr=False)
    _on_time: int = field(default=0, repr=False)

    def add(self, case: CaseTimes, now: dt.datetime) -> None:
        self.received += 1
        status = case.status
        if status is ReportStatus.RESOLVED:
            self.resolved += 1
        elif status is ReportStatus.REJECTED:
            self.rejected += 1
        if not status.is_closed:
            self.open += 1
            self.overdue += case.due_at < now
        elif case.closed_at is not None:
            hours = (case.closed_at - case.submitted_at).total_seconds() / 3600
            self._durations.append(max(hours, 0.0))
            self._on_time += case.closed_at <= case.due_at

    def finish(self) -> None:
        if self._durations:
            self.median_resolution_hours = round(statistics.median(self._durations), 2)
            self.within_target_share = round(self._on_time / len(self._durations), 4)


@dataclass
class CategoryFigures(Figures):
    category: str = ""


@dataclass
class UnitFigures(Figures):
    unit: str | None = None
    """None for cases no route took (unroutable)."""
    categories: list[CategoryFigures] = field(default_factory=list)


def unit_figures(cases: Iterable[CaseTimes], *, now: dt.datetime) -> list[UnitFigures]:
    """Figures per unit and per category within it, units and categories by code (cases
    without a unit last)."""
    units: dict[str | None, UnitFigures] = {}
    categories: dict[tuple[str | None, str], CategoryFigures] = {}
    for case in cases:
        unit = units.setdefault(case.unit, UnitFigures(unit=case.unit))
        unit.add(case, now)
        key = (case.unit, case.category)
        if key not in categories:
            categories[key] = CategoryFigures(category=case.category)
            unit.categories.append(categories[key])
        categories[key].add(case, now)
    result = sorted(units.values(), key=lambda u: (u.unit is None, u.unit or ""))
    for unit in result:
        unit.finish()
        unit.categories.sort(key=lambda c: c.category)
        for category in unit.categories:
            category.finish()
    return result
