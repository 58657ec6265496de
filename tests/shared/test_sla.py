"""Due times in hours on the clock and in a city's working days, counted in its time zone:
Polish ones in Warsaw time by default, Bavarian ones in Berlin, New York's, and in zones whose
clocks change on a working day."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from shared.settings import CitySettings
from shared.sla import Calendar, add_working_days, approximate_hours, calendar, due_at

POLAND = calendar("Europe/Warsaw", "PL")
WARSAW = POLAND.zone
BAVARIA = calendar("Europe/Berlin", "DE-BY")
NEW_YORK = calendar("America/New_York", "US-NY")


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
        assert POLAND.is_working_day(day) is working

    def test_next_working_day_skips_a_long_weekend(self):
        assert POLAND.next_working_day(dt.date(2026, 12, 23)) == dt.date(2026, 12, 28)
        assert POLAND.next_working_day(dt.date(2026, 4, 30)) == dt.date(2026, 5, 4)


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
        assert due_at(submitted, calendar=POLAND, working_days=days) == due
        assert due_at(submitted, calendar=POLAND, working_days=days).tzinfo == dt.UTC

    def test_clock_changes_shorten_or_lengthen_the_hours(self):
        spring = due_at(warsaw(2026, 3, 27, 10), calendar=POLAND, working_days=1)
        autumn = due_at(warsaw(2026, 10, 23, 10), calendar=POLAND, working_days=1)
        assert spring == utc(2026, 3, 30, 8)
        assert spring - warsaw(2026, 3, 27, 10) == dt.timedelta(hours=71)
        assert autumn == utc(2026, 10, 26, 9)
        assert autumn - warsaw(2026, 10, 23, 10) == dt.timedelta(hours=73)

    def test_counted_in_warsaw_whatever_the_given_time_zone(self):
        # Friday 23:30 UTC is already Saturday in Warsaw: a weekend report.
        friday_night = utc(2026, 3, 6, 23, 30)
        assert due_at(friday_night, calendar=POLAND, working_days=1) == warsaw(
            2026, 3, 10, 0
        )
        # Sunday 23:30 UTC is Monday 00:30 in Warsaw: a working day's report.
        sunday_night = utc(2026, 3, 1, 23, 30)
        assert due_at(sunday_night, calendar=POLAND, working_days=1) == utc(
            2026, 3, 2, 23, 30
        )
        # The same instant from New York gives the same due time.
        new_york = sunday_night.astimezone(ZoneInfo("America/New_York"))
        assert due_at(new_york, calendar=POLAND, working_days=1) == utc(
            2026, 3, 2, 23, 30
        )
        # Summer time: 22:30 UTC on Sunday is Monday 00:30 in Warsaw too.
        assert due_at(
            utc(2026, 6, 7, 22, 30), calendar=POLAND, working_days=1
        ) == warsaw(2026, 6, 9, 0, 30)

    def test_zero_working_days_is_due_at_once(self):
        monday = warsaw(2026, 3, 2, 10)
        assert add_working_days(monday, 0, calendar=POLAND) == monday
        saturday = warsaw(2026, 3, 7, 10)
        assert add_working_days(saturday, 0, calendar=POLAND) == saturday


class TestHours:
    def test_hours_run_on_the_clock_over_weekends_and_holidays(self):
        saturday_night = warsaw(2026, 3, 7, 23)
        assert due_at(saturday_night, calendar=POLAND, hours=4) == warsaw(2026, 3, 8, 3)
        christmas = warsaw(2026, 12, 25, 12)
        assert due_at(christmas, calendar=POLAND, hours=24) == warsaw(2026, 12, 26, 12)

    def test_hours_are_elapsed_time_across_a_clock_change(self):
        before = warsaw(2026, 3, 29, 1, 30)
        due = due_at(before, calendar=POLAND, hours=4)
        assert due - before == dt.timedelta(hours=4)
        assert due == warsaw(2026, 3, 29, 6, 30)

    def test_the_answer_is_in_utc(self):
        assert due_at(warsaw(2026, 3, 2, 10), calendar=POLAND, hours=4).tzinfo == dt.UTC


class TestArguments:
    def test_a_naive_time_is_refused(self):
        with pytest.raises(ValueError, match="aware"):
            due_at(dt.datetime(2026, 3, 2, 10), calendar=POLAND, hours=4)

    @pytest.mark.parametrize(
        "target", [{}, {"hours": 4, "working_days": 5}], ids=["none", "both"]
    )
    def test_exactly_one_target(self, target):
        with pytest.raises(ValueError, match="exactly one"):
            due_at(warsaw(2026, 3, 2, 10), calendar=POLAND, **target)

    def test_negative_working_days_are_refused(self):
        with pytest.raises(ValueError, match="negative"):
            add_working_days(warsaw(2026, 3, 2, 10), -1, calendar=POLAND)


@pytest.mark.parametrize(
    ("working_days", "hours"), [(1, 48), (5, 168), (10, 336), (21, 720)]
)
def test_approximate_hours_are_whole_calendar_days(working_days, hours):
    assert approximate_hours(working_days) == hours


def local(
    cal: Calendar,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    *,
    fold: int = 0,
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=cal.zone, fold=fold)


class TestAnotherCity:
    @pytest.mark.parametrize(
        ("day", "in_bavaria", "in_poland"),
        [
            (dt.date(2026, 5, 14), False, True),  # Ascension Day
            (dt.date(2026, 5, 25), False, True),  # Whit Monday
            (dt.date(2026, 11, 11), True, False),  # Poland's Independence Day
            (dt.date(2027, 5, 3), True, False),  # Poland's Constitution Day
            (dt.date(2026, 12, 24), True, False),  # Christmas Eve
            (dt.date(2026, 6, 4), False, False),  # Corpus Christi, in both
            (dt.date(2026, 1, 6), False, False),  # Epiphany, in both
        ],
    )
    def test_bavarian_holidays_are_not_polish_ones(self, day, in_bavaria, in_poland):
        assert BAVARIA.is_working_day(day) is in_bavaria
        assert POLAND.is_working_day(day) is in_poland

    @pytest.mark.parametrize(
        ("submitted", "in_bavaria", "in_poland"),
        [
            # Wednesday before Ascension Day: Bavaria waits until Friday.
            ((2026, 5, 13, 10), (2026, 5, 15, 10), (2026, 5, 14, 10)),
            # Friday before 3 May (a Monday in 2027): Poland waits until Tuesday.
            ((2027, 4, 30, 10), (2027, 5, 3, 10), (2027, 5, 4, 10)),
            # Over Poland's Independence Day.
            ((2026, 11, 10, 9), (2026, 11, 11, 9), (2026, 11, 12, 9)),
        ],
    )
    def test_the_same_local_time_is_due_on_each_citys_working_day(
        self, submitted, in_bavaria, in_poland
    ):
        assert due_at(
            local(BAVARIA, *submitted), calendar=BAVARIA, working_days=1
        ) == local(BAVARIA, *in_bavaria)
        assert due_at(
            local(POLAND, *submitted), calendar=POLAND, working_days=1
        ) == local(POLAND, *in_poland)

    def test_new_york_counts_in_its_own_time_and_holidays(self):
        # Thanksgiving is a Thursday.
        wednesday = local(NEW_YORK, 2026, 11, 25, 10)
        assert due_at(wednesday, calendar=NEW_YORK, working_days=1) == local(
            NEW_YORK, 2026, 11, 27, 10
        )
        # Friday 22:30 in New York is already Saturday in Warsaw: a working day's report
        # there, a weekend's here.
        friday_evening = local(NEW_YORK, 2026, 3, 6, 22, 30)
        assert due_at(friday_evening, calendar=NEW_YORK, working_days=1) == local(
            NEW_YORK, 2026, 3, 9, 22, 30
        )
        assert due_at(friday_evening, calendar=POLAND, working_days=1) == warsaw(
            2026, 3, 10, 0
        )


JERUSALEM = calendar("Asia/Jerusalem", "IL")
"""Clocks go from 02:00 to 03:00 on a Friday (27 March 2026), a working day here."""
CAIRO = calendar("Africa/Cairo", "EG")
"""Clocks skip the midnight that starts Friday 24 April 2026, and go from Thursday 29 October
2026 24:00 back to 23:00."""


def exists_once(instant: dt.datetime, zone: ZoneInfo) -> bool:
    """The local time of `instant` is shown once, at `instant` alone."""
    shown = instant.astimezone(zone)
    return (
        shown.replace(fold=0).astimezone(dt.UTC)
        == shown.replace(fold=1).astimezone(dt.UTC)
        == instant
    )


class TestClocksChangingOnAWorkingDay:
    def test_the_zones_do_change_on_those_days(self):
        # The premises of the other tests, from the time zone database.
        assert local(JERUSALEM, 2026, 3, 27, 1).utcoffset() == dt.timedelta(hours=2)
        assert local(JERUSALEM, 2026, 3, 27, 4).utcoffset() == dt.timedelta(hours=3)
        assert local(CAIRO, 2026, 4, 23, 23).utcoffset() == dt.timedelta(hours=2)
        assert local(CAIRO, 2026, 4, 24, 2).utcoffset() == dt.timedelta(hours=3)
        assert local(CAIRO, 2026, 10, 29, 23, 30).utcoffset() == dt.timedelta(hours=3)
        assert local(CAIRO, 2026, 10, 29, 23, 30, fold=1).utcoffset() == dt.timedelta(
            hours=2
        )

    def test_a_skipped_time_is_read_with_the_offset_before_the_change(self):
        # Thursday 02:30 with a working day: Friday 02:30 does not exist, 03:30 is meant.
        due = due_at(
            local(JERUSALEM, 2026, 3, 26, 2, 30), calendar=JERUSALEM, working_days=1
        )
        assert due == utc(2026, 3, 27, 0, 30)
        assert due.astimezone(JERUSALEM.zone).time() == dt.time(3, 30)
        assert exists_once(due, JERUSALEM.zone)
        assert due - local(JERUSALEM, 2026, 3, 26, 2, 30) == dt.timedelta(hours=24)

    def test_a_time_after_the_change_keeps_its_local_time(self):
        due = due_at(
            local(JERUSALEM, 2026, 3, 26, 10), calendar=JERUSALEM, working_days=1
        )
        assert due.astimezone(JERUSALEM.zone) == local(JERUSALEM, 2026, 3, 27, 10)
        assert due - local(JERUSALEM, 2026, 3, 26, 10) == dt.timedelta(hours=23)

    def test_a_skipped_midnight_ending_a_working_day_is_the_change(self):
        # A Saturday report's fourth working day is Thursday; its midnight is skipped.
        due = due_at(local(CAIRO, 2026, 4, 18, 12), calendar=CAIRO, working_days=4)
        assert due == utc(2026, 4, 23, 22)
        assert due.astimezone(CAIRO.zone) == local(CAIRO, 2026, 4, 24, 1)
        assert exists_once(due, CAIRO.zone)
        # Just after midnight on Thursday: Friday 00:30 is skipped too.
        early = due_at(local(CAIRO, 2026, 4, 23, 0, 30), calendar=CAIRO, working_days=1)
        assert early == utc(2026, 4, 23, 22, 30)
        assert exists_once(early, CAIRO.zone)

    def test_a_time_that_happens_twice_is_due_the_first_time(self):
        wednesday = local(CAIRO, 2026, 10, 28, 23, 30)
        due = due_at(wednesday, calendar=CAIRO, working_days=1)
        assert due == utc(2026, 10, 29, 20, 30)
        # (An ambiguous local time equals no instant of another zone: compared in UTC.)
        first, second = (
            local(CAIRO, 2026, 10, 29, 23, 30, fold=fold).astimezone(dt.UTC)
            for fold in (0, 1)
        )
        assert due == first
        assert second - due == dt.timedelta(hours=1)

    def test_a_report_the_second_time_is_due_after_it(self):
        again = local(CAIRO, 2026, 10, 29, 23, 30, fold=1)
        assert due_at(again, calendar=CAIRO, working_days=1) == utc(
            2026, 10, 30, 21, 30
        )
        # Due at once is then, not at the first 23:30 an hour before.
        assert add_working_days(again, 0, calendar=CAIRO) == again.astimezone(dt.UTC)


class TestCalendar:
    def test_settings_spelling(self):
        bavaria = calendar(" Europe/Berlin", "de-by")
        assert (bavaria.zone.key, bavaria.country, bavaria.subdivision) == (
            "Europe/Berlin",
            "DE",
            "BY",
        )
        assert bavaria.region == "DE-BY"
        assert calendar("Europe/Warsaw", "PL").region == "PL"
        assert calendar("Europe/Warsaw", "PL").subdivision is None

    @pytest.mark.parametrize(
        ("time_zone", "holidays", "message"),
        [
            ("Europe/Wroclaw", "PL", "unknown time zone 'Europe/Wroclaw'"),
            ("../etc/passwd", "PL", "unknown time zone"),
            ("", "PL", "unknown time zone"),
            ("Europe/Warsaw", "XX", "unknown country 'XX'"),
            ("Europe/Warsaw", "", "unknown country ''"),
            ("Europe/Berlin", "DE-XX", "DE has no subdivision 'XX'.*BY"),
        ],
    )
    def test_what_is_unknown_is_named(self, time_zone, holidays, message):
        with pytest.raises(ValueError, match=message):
            calendar(time_zone, holidays)

    def test_a_calendar_of_an_unknown_country_cannot_be_made(self):
        with pytest.raises(ValueError, match="unknown country"):
            Calendar(ZoneInfo("Europe/Warsaw"), "XX")

    def test_holidays_are_counted_once_a_year(self):
        assert BAVARIA.public_holidays(2026) is BAVARIA.public_holidays(2026)
        assert dt.date(2026, 5, 14) in BAVARIA.public_holidays(2026)
        assert dt.date(2026, 5, 14) not in POLAND.public_holidays(2026)


class TestSettings:
    def test_warsaw_and_poland_by_default(self, monkeypatch):
        monkeypatch.delenv("MAM_TIME_ZONE", raising=False)
        monkeypatch.delenv("MAM_HOLIDAYS", raising=False)
        assert CitySettings().calendar == POLAND

    def test_read_unprefixed_from_the_environment(self, monkeypatch):
        monkeypatch.setenv("MAM_TIME_ZONE", "Europe/Berlin")
        monkeypatch.setenv("MAM_HOLIDAYS", "DE-BY")
        assert CitySettings().calendar == BAVARIA

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("MAM_TIME_ZONE", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
            ("MAM_HOLIDAYS", "DE-XX", "DE has no subdivision 'XX'"),
        ],
    )
    def test_an_unknown_one_stops_the_start(self, monkeypatch, name, value, message):
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError, match=message):
            CitySettings()
