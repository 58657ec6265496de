import datetime as dt

from shared.retry import Backoff, parse_retry_after


class TestBackoff:
    def test_full_jitter_stays_under_the_exponential_ceiling(self):
        backoff = Backoff(base=2.0, cap=1800.0)
        for attempts, ceiling in [(1, 2.0), (2, 4.0), (5, 32.0), (30, 1800.0)]:
            delays = [backoff.delay(attempts) for _ in range(200)]
            assert all(0 <= d <= ceiling for d in delays)
            assert max(delays) > ceiling / 2  # jittered over the range, not a constant

    def test_retry_after_is_honoured_but_capped_at_an_hour(self):
        backoff = Backoff(base=2.0, cap=1800.0)
        assert backoff.delay(1, retry_after=120) >= 120
        assert backoff.delay(1, retry_after=86400) <= 3600


class TestParseRetryAfter:
    def test_seconds_and_http_dates(self):
        now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
        assert parse_retry_after("30", now) == 30
        assert parse_retry_after("Sat, 28 Nov 2026 12:01:00 GMT", now) == 60
        assert parse_retry_after("nonsense", now) is None
        # Digits of other scripts are digits to str.isdigit, not to float().
        assert parse_retry_after("²", now) is None
        assert parse_retry_after("٣٠", now) is None
        assert parse_retry_after(None, now) is None
