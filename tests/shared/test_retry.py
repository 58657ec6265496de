import asyncio
import datetime as dt
import time

import pytest

from shared.retry import Backoff, LeaseLost, parse_retry_after, under_lease


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


class TestUnderLease:
    LEASE = dt.timedelta(seconds=0.3)

    async def test_the_lease_is_renewed_while_the_call_runs_past_it(self):
        renewals = 0
        renewed_thrice = asyncio.Event()

        async def renew() -> bool:
            nonlocal renewals
            renewals += 1
            if renewals == 3:
                renewed_thrice.set()
            return True

        async def call() -> str:
            await renewed_thrice.wait()
            return "done"

        assert await under_lease(call, renew=renew, lease=self.LEASE) == "done"

    async def test_a_call_done_within_a_third_of_the_lease_renews_nothing(self):
        async def renew() -> bool:
            raise AssertionError("renewed")

        async def call() -> int:
            return 7

        assert await under_lease(call, renew=renew, lease=self.LEASE) == 7

    async def test_a_claim_taken_over_cancels_the_call(self):
        cancelled = asyncio.Event()

        async def renew() -> bool:
            return False

        async def call() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                cancelled.set()

        with pytest.raises(LeaseLost, match="taken over"):
            await under_lease(call, renew=renew, lease=self.LEASE)
        assert cancelled.is_set()

    async def test_a_lease_that_cannot_be_renewed_ends_the_call_before_it_runs_out(
        self,
    ):
        tries = 0

        async def renew() -> bool:
            nonlocal tries
            tries += 1
            raise ConnectionError("database gone")

        async def call() -> None:
            await asyncio.Event().wait()

        started = time.monotonic()
        with pytest.raises(LeaseLost, match="in time"):
            await under_lease(call, renew=renew, lease=self.LEASE)
        assert time.monotonic() - started < self.LEASE.total_seconds()
        assert tries >= 1

    async def test_the_calls_own_failure_comes_through(self):
        async def renew() -> bool:
            return True

        async def call() -> None:
            raise TimeoutError

        with pytest.raises(TimeoutError):
            await under_lease(call, renew=renew, lease=self.LEASE)
