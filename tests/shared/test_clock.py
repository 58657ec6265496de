import datetime as dt

import pytest

from shared import clock
from shared.clock import SetClock
from shared.db import utcnow
from tests.helpers import MONDAY_MORNING


def test_a_set_clock_starts_where_it_was_set_and_ticks_on():
    with clock.use(SetClock(MONDAY_MORNING)) as set_clock:
        first = utcnow()
        second = utcnow()
        assert (
            MONDAY_MORNING <= first <= second < MONDAY_MORNING + dt.timedelta(minutes=1)
        )
        assert first.tzinfo == dt.UTC
        assert isinstance(set_clock, SetClock)
        set_clock.advance(dt.timedelta(days=5))
        assert utcnow() - first >= dt.timedelta(days=5)
    # Outside the block the system's clock is back.
    assert abs(utcnow() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_a_clock_cannot_be_set_to_a_local_time_without_a_zone():
    with pytest.raises(ValueError, match="timezone-aware"):
        SetClock(dt.datetime(2026, 12, 7, 10, 0))
