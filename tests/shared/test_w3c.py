"""Open311's date-times, as our server, the adapter's client and the simulator read them."""

import datetime as dt

import pytest

from shared.w3c import format_w3c, parse_w3c

WARSAW = dt.timezone(dt.timedelta(hours=1))


def test_written_in_utc_to_the_second():
    moment = dt.datetime(2026, 12, 1, 11, 30, 5, 999_000, tzinfo=WARSAW)
    assert format_w3c(moment) == "2026-12-01T10:30:05Z"


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01T11:30:05+01:00",
        "2026-12-01T10:30:05Z",
        # A `+` sent unencoded in a query string arrives as a space.
        "2026-12-01T11:30:05 01:00",
        " 2026-12-01T11:30:05.000+01:00 ",
    ],
)
def test_read_with_its_zone(text):
    assert parse_w3c(text) == dt.datetime(2026, 12, 1, 10, 30, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["2026-12-01T10:30:05", "2026-12-01"])
def test_a_date_time_without_its_zone_is_refused(text):
    with pytest.raises(ValueError, match="with its time zone is needed"):
        parse_w3c(text)


@pytest.mark.parametrize("text", ["", "soon", "2026-13-01T10:00:00Z"])
def test_what_is_no_date_time_is_refused(text):
    with pytest.raises(ValueError, match="isoformat|month"):
        parse_w3c(text)


def test_a_crms_date_time_without_a_zone_can_be_taken_as_utc():
    assert parse_w3c("2026-12-01T10:30:05", assume_utc=True) == dt.datetime(
        2026, 12, 1, 10, 30, 5, tzinfo=dt.UTC
    )
    with pytest.raises(ValueError, match="isoformat"):
        parse_w3c("soon", assume_utc=True)
