"""Resolution targets: when a report is due, in hours or in Polish working days (pure).

Intake shows the resident `expected_resolution_at` and the adapter tracks the case's `due_at`;
both come from `due_at()` here, with the report's submission time and its category's target,
so the two always agree.

A target in hours runs on the clock: a traffic signal fault reported on Saturday at 23:00
with 4 hours is due on Sunday at 03:00. A target in working days runs only on working days,
Monday to Friday except Polish public holidays, counted in Europe/Warsaw local time whatever
the time zone of the given instant: only the time of working days counts, so

- a report on a working day is due at the same local time on the n-th working day after, e.g.
  a pothole (5 working days) reported on Monday at 10:00 is due the next Monday at 10:00;
- a report on a weekend or a holiday starts counting when the next working day begins, and is
  due at the end (midnight) of the n-th working day, e.g. reported on Saturday, due when
  Friday ends.

Polish public holidays changing the clock are never a problem here: Poland moves its clocks on
a Sunday night, which is not a working day, and a due time is either on a working day or at
midnight, which exists exactly once on every day.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from zoneinfo import ZoneInfo

import holidays

WARSAW = ZoneInfo("Europe/Warsaw")
"""The time zone working days are counted in."""

MAX_HOURS = 24 * 366
MAX_WORKING_DAYS = 260


@functools.cache
def _public_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("PL", years=year, categories="public"))


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, and not a Polish public holiday."""
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """The first working day after `day`."""
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(start: dt.datetime, working_days: int) -> dt.datetime:
    """The instant `working_days` working days of time after `start` (aware), in UTC."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if working_days < 0:
        raise ValueError("working_days must not be negative")
    local = start.astimezone(WARSAW)
    day = local.date()
    if is_working_day(day):
        for _ in range(working_days):
            day = next_working_day(day)
        due = dt.datetime.combine(day, local.time().replace(fold=0), tzinfo=WARSAW)
    else:
        # Counting starts when the next working day begins: the n-th such day is spent whole.
        if working_days == 0:
            return start.astimezone(dt.UTC)
        for _ in range(working_days):
            day = next_working_day(day)
        due = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=WARSAW)
    return due.astimezone(dt.UTC)


def due_at(
    submitted_at: dt.datetime,
    *,
    hours: int | None = None,
    working_days: int | None = None,
) -> dt.datetime:
    """When a report submitted at `submitted_at` is due under its target (exactly one of
    `hours` and `working_days`), in UTC."""
    if submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    if (hours is None) == (working_days is None):
        raise ValueError("give exactly one of hours and working_days")
    if hours is not None:
        return submitted_at.astimezone(dt.UTC) + dt.timedelta(hours=hours)
    assert working_days is not None
    return add_working_days(submitted_at, working_days)


def approximate_hours(working_days: int) -> int:
    """The usual calendar length of a target in working days, in whole days' hours: five
    working days are a week (168 hours). Only for clients that know targets in hours."""
    return math.ceil(working_days * 7 / 5) * 24
