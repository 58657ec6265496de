"""Resolution targets: when a report is due, in hours or in the city's working days (pure).

Intake shows the resident `expected_resolution_at` and the adapter tracks the case's `due_at`;
both come from `due_at()` here, with the report's submission time, its category's target and
the city's `Calendar` (one setting both services read, `MAM_TIME_ZONE` and `MAM_HOLIDAYS`),
so the two always agree.

A target in hours runs on the clock: a traffic signal fault reported on Saturday at 23:00
with 4 hours is due on Sunday at 03:00. A target in working days runs only on working days,
Monday to Friday except the public holidays of the calendar's country (or region of it),
counted in the calendar's local time whatever the time zone of the given instant: only the
time of working days counts, so

- a report on a working day is due at the same local time on the n-th working day after, e.g.
  a pothole (5 working days) reported on Monday at 10:00 is due the next Monday at 10:00;
- a report on a weekend or a holiday starts counting when the next working day begins, and is
  due at the end (midnight) of the n-th working day, e.g. reported on Saturday, due when
  Friday ends.

Clock changes keep the local time, not the hours elapsed: over a spring change a target is an
hour shorter. Where clocks change on a weekend night (all of Europe and North America), a due
time lies on a working day or at a midnight, which exists exactly once. Where they change on a
working day (Asia/Jerusalem on a Friday at 02:00, Africa/Cairo at midnight after a Thursday),
the local time a report is due at may not exist, or exist twice, on its day. It is read as RFC
5545 reads such times: a time the clocks skip with the offset before the change, which moves it
on by the length of the skip (02:30 on a night clocks go from 02:00 to 03:00 is 03:30; a
skipped midnight is the instant of the change), and a time that happens twice as the first of
the two. Every due time is one instant, given in UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

MAX_HOURS = 24 * 366
MAX_WORKING_DAYS = 260


@dataclass(frozen=True)
class Calendar:
    """Where working days are counted: the city's time zone, and the country (or a
    subdivision of it: a state, a region) whose public holidays are not working days, as
    the `holidays` package knows them. Make one with `calendar()`."""

    zone: ZoneInfo
    country: str
    subdivision: str | None = None

    def __post_init__(self) -> None:
        _check_region(self.country, self.subdivision)

    @property
    def region(self) -> str:
        """Whose holidays, as the settings spell it: `PL`, `DE-BY`."""
        if self.subdivision is None:
            return self.country
        return f"{self.country}-{self.subdivision}"

    def public_holidays(self, year: int) -> frozenset[dt.date]:
        return _public_holidays(self.country, self.subdivision, year)

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday, and not a public holiday."""
        return day.weekday() < 5 and day not in self.public_holidays(day.year)

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day after `day`."""
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day


@functools.cache
def calendar(time_zone: str, region: str) -> Calendar:
    """The calendar of an IANA time zone (`Europe/Warsaw`) and a country's ISO 3166 code,
    optionally with a subdivision (`PL`, `DE-BY`, `US-NY`); ValueError saying which is
    unknown."""
    try:
        zone = ZoneInfo(time_zone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {time_zone!r}: give an IANA name such as "
            "Europe/Warsaw or America/New_York"
        ) from None
    country, _, subdivision = region.strip().partition("-")
    country = country.upper()
    # `DE-by` is `DE-BY`; names the package also knows (`DE-Bayern`) are left as they are.
    spelled = {s.upper(): s for s in _supported().get(country, [])}
    return Calendar(
        zone, country, spelled.get(subdivision.upper(), subdivision) or None
    )


@functools.cache
def _supported() -> dict[str, list[str]]:
    """Each country the `holidays` package knows, with its subdivisions."""
    return holidays.list_supported_countries()


@functools.cache
def _check_region(country: str, subdivision: str | None) -> None:
    """ValueError unless the `holidays` package knows the country (and its subdivision)."""
    supported = _supported()
    if country not in supported:
        raise ValueError(
            f"unknown country {country!r} for public holidays: give an ISO 3166 code "
            "such as PL, DE or US, optionally with a subdivision (DE-BY)"
        )
    try:
        holidays.country_holidays(country, subdiv=subdivision, categories="public")
    except NotImplementedError:
        raise ValueError(
            f"{country} has no subdivision {subdivision!r} for public holidays; it has "
            f"{', '.join(supported[country])}"
        ) from None


@functools.cache
def _public_holidays(
    country: str, subdivision: str | None, year: int
) -> frozenset[dt.date]:
    return frozenset(
        holidays.country_holidays(
            country, subdiv=subdivision, years=year, categories="public"
        )
    )


def add_working_days(
    start: dt.datetime, working_days: int, *, calendar: Calendar
) -> dt.datetime:
    """The instant `working_days` working days of time after `start` (aware), in UTC."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if working_days < 0:
        raise ValueError("working_days must not be negative")
    if working_days == 0:
        return start.astimezone(dt.UTC)
    local = start.astimezone(calendar.zone)
    day = local.date()
    working = calendar.is_working_day(day)
    for _ in range(working_days):
        day = calendar.next_working_day(day)
    if working:
        return _instant(day, local.time(), calendar.zone)
    # Counting starts when the next working day begins: the n-th such day is spent whole.
    return _instant(day + dt.timedelta(days=1), dt.time(0), calendar.zone)


def _instant(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """When the zone's clocks show `time` on `day`, in UTC; a skipped time read with the
    offset before the change, a repeated one the first time (fold 0, as RFC 5545 reads
    them)."""
    return dt.datetime.combine(day, time.replace(fold=0), tzinfo=zone).astimezone(
        dt.UTC
    )


def due_at(
    submitted_at: dt.datetime,
    *,
    calendar: Calendar,
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
    return add_working_days(submitted_at, working_days, calendar=calendar)


def approximate_hours(working_days: int) -> int:
    """The usual calendar length of a target in working days, in whole days' hours: five
    working days are a week (168 hours). Only for clients that know targets in hours."""
    return math.ceil(working_days * 7 / 5) * 24
