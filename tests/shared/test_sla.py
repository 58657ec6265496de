"""Due times in hours on the clock and in Polish working days, counted in Warsaw time."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from shared.sla import (
    WARSAW,
    add_working_days,
    approximate_hours,
    due_at,
    is_working_day,
    next_working_day,
)


def warsaw(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=WARSAW)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


class TestIsWorkingDay:
    @pytest.mark.parametrize(
        ("day", "working"),
        [
            (dt.date(2026, 3, 2), True),  # Monday
            (dt.date(2026, 3, 6), True),  # Friday
            (dt.date(2026, 3, 7), False),  # Saturday
            (dt.date(2026, 3, 8), False),  # Sunday
            (dt.date(2026, 1, 1), False),  # New Year's Day
            (dt.date(2026, 1, 6), False),  # Epiphany
            (dt.date(2026, 4, 6), False),  # Easter Monday
            (dt.date(2026, 4, 7), True),
            (dt.date(2026, 5, 1), False),  # Labour Day
            (dt.date(2026, 6, 4), False),  # Corpus Christi
            (dt.date(2026, 6, 5), True),
            (dt.date(2026, 11, 11), False),  # Independence Day
            (dt.date(2026, 12, 24), False),  # Christmas Eve, a holiday since 2025
            (dt.date(2024, 12, 24), True),  # ... but not before
            (dt.date(2026, 12, 31), True),
            (dt.date(2027, 3, 29), False),  # Easter Monday 2027
            (dt.date(2027, 5, 27), False),  # Corpus Christi 2027
        ],
    )
    def test_weekdays_except_polish_public_holidays(self, day, working):
        assert is_working_day(day) is working

    def test_next_working_day_skips_a_long_weekend(self):
        assert next_working_day(dt.date(2026, 12, 23)) == dt.date(2026, 12, 28)
        assert next_working_day(dt.date(2026, 4, 30)) == dt.date(2026, 5, 4)


class TestWorkingDays:
    @pytest.mark.parametrize(
        ("submitted", "days", "due"),
        [
            # A working day: the same local time on the n-th working day after.
            (warsaw(2026, 3, 2, 10), 5, warsaw(2026, 3, 9, 10)),
            (warsaw(2026, 3, 6, 16, 45), 1, warsaw(2026, 3, 9, 16, 45)),
            (warsaw(2026, 3, 2, 0, 0), 1, warsaw(2026, 3, 3, 0, 0)),
            (warsaw(2026, 3, 2, 23, 59), 10, warsaw(2026, 3, 16, 23, 59)),
            # A weekend: counting starts on Monday, due when the n-th working day ends.
            (warsaw(2026, 3, 7, 10), 5, warsaw(2026, 3, 14, 0)),
            (warsaw(2026, 3, 8, 23, 30), 1, warsaw(2026, 3, 10, 0)),
            # Easter: Good Friday is a working day, Easter Monday is not.
            (warsaw(2026, 4, 2, 12), 2, warsaw(2026, 4, 7, 12)),
            (warsaw(2026, 4, 3, 12), 1, warsaw(2026, 4, 7, 12)),
            (warsaw(2026, 4, 5, 9), 1, warsaw(2026, 4, 8, 0)),  # Easter Sunday
            (warsaw(2026, 4, 6, 10), 1, warsaw(2026, 4, 8, 0)),  # Easter Monday
            # Corpus Christi (a Thursday) and the Friday after it.
            (warsaw(2026, 6, 3, 9), 1, warsaw(2026, 6, 5, 9)),
            (warsaw(2026, 6, 3, 9), 2, warsaw(2026, 6, 8, 9)),
            # Christmas Eve, Christmas, the weekend, then New Year's Day.
            (warsaw(2026, 12, 23, 15), 1, warsaw(2026, 12, 28, 15)),
            (warsaw(2026, 12, 23, 15), 3, warsaw(2026, 12, 30, 15)),
            (warsaw(2026, 12, 23, 15), 5, warsaw(2027, 1, 4, 15)),
            (warsaw(2026, 12, 25, 8), 1, warsaw(2026, 12, 29, 0)),
            (warsaw(2026, 12, 31, 13), 1, warsaw(2027, 1, 4, 13)),
            (warsaw(2027, 1, 5, 9), 1, warsaw(2027, 1, 7, 9)),  # Epiphany
            (
                warsaw(2024, 12, 23, 10),
                1,
                warsaw(2024, 12, 24, 10),
            ),  # not yet a holiday
            # 1 and 3 May around a weekend.
            (warsaw(2026, 4, 30, 10), 2, warsaw(2026, 5, 5, 10)),
            # Across the clock changes: the local time is kept, not the hours elapsed.
            (warsaw(2026, 3, 27, 10), 1, warsaw(2026, 3, 30, 10)),
            (warsaw(2026, 10, 23, 10), 1, warsaw(2026, 10, 26, 10)),
            # Three working weeks and more, over the November holidays.
            (warsaw(2026, 10, 26, 12), 21, warsaw(2026, 11, 25, 12)),
        ],
    )
    def test_due(self, submitted, days, due):
        assert due_at(submitted, working_days=days) == due
        assert due_at(submitted, working_days=days).tzinfo == dt.UTC

    def test_clock_changes_shorten_or_lengthen_the_hours(self):
        spring = due_at(warsaw(2026, 3, 27, 10), working_days=1)
        autumn = due_at(warsaw(2026, 10, 23, 10), working_days=1)
        assert spring == utc(2026, 3, 30, 8)
        assert spring - warsaw(2026, 3, 27, 10) == dt.timedelta(hours=71)
        assert autumn == utc(2026, 10, 26, 9)
        assert autumn - warsaw(2026, 10, 23, 10) == dt.timedelta(hours=73)

    def test_counted_in_warsaw_whatever_the_given_time_zone(self):
        # Friday 23:30 UTC is already Saturday in Warsaw: a weekend report.
        friday_night = utc(2026, 3, 6, 23, 30)
        assert due_at(friday_night, working_days=1) == warsaw(2026, 3, 10, 0)
        # Sunday 23:30 UTC is Monday 00:30 in Warsaw: a working day's report.
        sunday_night = utc(2026, 3, 1, 23, 30)
        assert due_at(sunday_night, working_days=1) == utc(2026, 3, 2, 23, 30)
        # The same instant from New York gives the same due time.
        new_york = sunday_night.astimezone(ZoneInfo("America/New_York"))
        assert due_at(new_york, working_days=1) == utc(2026, 3, 2, 23, 30)
        # Summer time: 22:30 UTC on Sunday is Monday 00:30 in Warsaw too.
        assert due_at(utc(2026, 6, 7, 22, 30), working_days=1) == warsaw(
            2026, 6, 9, 0, 30
        )

    def test_zero_working_days_is_due_at_once(self):
        monday = warsaw(2026, 3, 2, 10)
        assert add_working_days(monday, 0) == monday
        saturday = warsaw(2026, 3, 7, 10)
        assert add_working_days(saturday, 0) == saturday


class TestHours:
    def test_hours_run_on_the_clock_over_weekends_and_holidays(self):
        saturday_night = warsaw(2026, 3, 7, 23)
        assert due_at(saturday_night, hours=4) == warsaw(2026, 3, 8, 3)
        christmas = warsaw(2026, 12, 25, 12)
        assert due_at(christmas, hours=24) == warsaw(2026, 12, 26, 12)

    def test_hours_are_elapsed_time_across_a_clock_change(self):
        before = warsaw(2026, 3, 29, 1, 30)
        assert due_at(before, hours=4) - before == dt.timedelta(hours=4)
        assert due_at(before, hours=4) == warsaw(2026, 3, 29, 6, 30)

    def test_the_answer_is_in_utc(self):
        assert due_at(warsaw(2026, 3, 2, 10), hours=4).tzinfo == dt.UTC


class TestArguments:
    def test_a_naive_time_is_refused(self):
        with pytest.raises(ValueError, match="aware"):
            due_at(dt.datetime(2026, 3, 2, 10), hours=4)

    @pytest.mark.parametrize(
        "target", [{}, {"hours": 4, "working_days": 5}], ids=["none", "both"]
    )
    def test_exactly_one_target(self, target):
        with pytest.raises(ValueError, match="exactly one"):
            due_at(warsaw(2026, 3, 2, 10), **target)

    def test_negative_working_days_are_refused(self):
        with pytest.raises(ValueError, match="negative"):
            add_working_days(warsaw(2026, 3, 2, 10), -1)


@pytest.mark.parametrize(
    ("working_days", "hours"), [(1, 48), (5, 168), (10, 336), (21, 720)]
)
def test_approximate_hours_are_whole_calendar_days(working_days, hours):
    assert approximate_hours(working_days) == hours
