"""Limits on failed sign-ins, wrong codes and mail requests, per address and per client."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from intake_service.app import create_app
from intake_service.throttling.models import AttemptCounter
from intake_service.throttling.service import client_subject
from tests.helpers import (
    PASSWORD,
    AppClient,
    app_mailbox,
    latest_code,
    register,
    serve,
)

EMAIL = "ola@example.org"
WRONG = "wrong-password-1"
WINDOW = 15 * 60


@pytest.fixture
async def strict(intake_settings):
    """Intake allowing 3 of everything per client (and the defaults per address)."""
    settings = intake_settings.model_copy(
        update={
            "throttle_signin_per_client": 3,
            "throttle_codes_per_client": 3,
            "throttle_mails_per_client": 3,
        }
    )
    async for client in serve(create_app(settings)):
        yield client


def from_elsewhere(client: AppClient) -> AppClient:
    """A client of the same running app from another IP address."""
    return AppClient(client.app, address="203.0.113.7")


async def token(client, email: str, password: str, **headers):
    return await client.post(
        "/v1/auth/token", json={"email": email, "password": password}, headers=headers
    )


def assert_throttled(response) -> int:
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:mam:problem:too-many-attempts"
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= WINDOW
    return retry_after


class TestSignInPerAccount:
    async def test_five_failures_lock_the_address_for_everyone(self, intake):
        await register(intake, EMAIL)
        for _ in range(5):
            assert (await token(intake, EMAIL, WRONG)).status_code == 401
        locked = await token(intake, EMAIL, PASSWORD, **{"Accept-Language": "de"})
        assert_throttled(locked)
        assert locked.json()["title"] == "Zu viele Versuche"
        assert locked.json()["detail"] == (
            "Zu viele Versuche in kurzer Zeit. Versuchen Sie es in 15 min erneut."
        )
        # The right password from another client is refused too; the default language
        # is Polish.
        async with from_elsewhere(intake) as other:
            elsewhere = await token(other, EMAIL, PASSWORD)
            assert_throttled(elsewhere)
            assert elsewhere.json()["title"] == "Zbyt wiele prób"
        # Another address is not affected.
        await register(intake, "jan@example.org")
        assert (await token(intake, "jan@example.org", PASSWORD)).status_code == 200

    async def test_an_unknown_address_is_limited_the_same_way(self, intake):
        for _ in range(5):
            assert (await token(intake, "nobody@example.org", WRONG)).status_code == 401
        assert_throttled(await token(intake, "NOBODY@example.org", WRONG))

    async def test_guesses_sent_side_by_side_do_not_slip_under_the_limit(self, intake):
        await register(intake, EMAIL)
        answers = await asyncio.gather(
            *(token(intake, EMAIL, WRONG) for _ in range(12))
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [401] * 5 + [429] * 7

    async def test_a_successful_sign_in_clears_the_count(self, intake):
        await register(intake, EMAIL)
        for _ in range(4):
            assert (await token(intake, EMAIL, WRONG)).status_code == 401
        assert (await token(intake, EMAIL, PASSWORD)).status_code == 200
        for _ in range(5):
            assert (await token(intake, EMAIL, WRONG)).status_code == 401
        assert_throttled(await token(intake, EMAIL, PASSWORD))


class TestSignInPerClient:
    async def test_failures_on_many_addresses_lock_the_client_only(self, strict):
        await register(strict, EMAIL)
        for address in ("a@example.org", "b@example.org", "c@example.org"):
            assert (await token(strict, address, WRONG)).status_code == 401
        assert_throttled(await token(strict, EMAIL, PASSWORD))
        async with from_elsewhere(strict) as other:
            assert (await token(other, EMAIL, PASSWORD)).status_code == 200


class TestCodes:
    async def test_wrong_codes_on_many_addresses_lock_the_client(self, strict):
        for address in ("a@example.org", "b@example.org", "c@example.org"):
            wrong = await strict.post(
                "/v1/accounts/verification", json={"email": address, "code": "000000"}
            )
            assert wrong.status_code == 400
        assert_throttled(
            await strict.post(
                "/v1/accounts/verification",
                json={"email": "d@example.org", "code": "000000"},
            )
        )
        assert_throttled(
            await strict.post(
                "/v1/auth/password-reset/confirm",
                json={
                    "email": "d@example.org",
                    "code": "000000",
                    "new_password": "zielone-rowery-przy-odrze",
                },
            )
        )

    @pytest.fixture
    async def three_per_address(self, intake_settings) -> AsyncIterator[AppClient]:
        """Intake allowing 3 wrong codes per address (the code itself takes 10), with
        `EMAIL` registered."""
        settings = intake_settings.model_copy(
            update={"throttle_codes_per_account": 3, "email_code_max_tries": 10}
        )
        async for client in serve(create_app(settings)):
            await register(client, EMAIL)
            yield client

    @staticmethod
    def codes(client: AppClient) -> tuple[str, str]:
        """The code mailed to `EMAIL`, and one that is wrong."""
        code = latest_code(app_mailbox(client), EMAIL)
        return code, f"{(int(code) + 1) % 1_000_000:06d}"

    async def test_codes_sent_side_by_side_do_not_slip_under_the_limit(
        self, three_per_address
    ):
        client = three_per_address
        _, wrong_code = self.codes(client)
        answers = await asyncio.gather(
            *(
                client.post(
                    "/v1/accounts/verification",
                    json={"email": EMAIL, "code": wrong_code},
                )
                for _ in range(10)
            )
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [400] * 3 + [429] * 7

    async def test_wrong_codes_for_one_address_lock_it_from_every_client(
        self, three_per_address
    ):
        client = three_per_address
        code, wrong_code = self.codes(client)
        for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            async with AppClient(client.app, address=address) as other:
                wrong = await other.post(
                    "/v1/accounts/verification",
                    json={"email": EMAIL, "code": wrong_code},
                )
                assert wrong.status_code == 400
        # Even the right code waits now (the code itself had 10 tries).
        assert_throttled(
            await client.post(
                "/v1/accounts/verification", json={"email": EMAIL, "code": code}
            )
        )


class TestMailRequests:
    async def test_requests_that_mail_are_limited_per_client(self, strict):
        for _ in range(3):
            asked = await strict.post(
                "/v1/accounts/verification/resend", json={"email": EMAIL}
            )
            assert asked.status_code == 202
        assert_throttled(
            await strict.post("/v1/auth/password-reset", json={"email": EMAIL})
        )
        registered = await strict.post(
            "/v1/accounts",
            json={
                "email": EMAIL,
                "password": PASSWORD,
                "display_name": "Ola",
                "lang": "pl",
            },
        )
        assert_throttled(registered)
        async with from_elsewhere(strict) as other:
            await register(other, EMAIL)


class TestCounters:
    async def test_keys_hold_no_address(self, intake, intake_session):
        await token(intake, EMAIL, WRONG)
        keys = (await intake_session.scalars(select(AttemptCounter.key))).all()
        assert len(keys) == 2
        assert all(EMAIL not in key and "127.0.0.1" not in key for key in keys)
        assert all(len(key) == 64 for key in keys)

    async def test_a_window_that_ended_is_deleted_and_counts_again(
        self, intake, intake_db, intake_session
    ):
        await register(intake, EMAIL)
        for _ in range(5):
            await token(intake, EMAIL, WRONG)
        assert_throttled(await token(intake, EMAIL, PASSWORD))
        for counter in (await intake_db.scalars(select(AttemptCounter))).all():
            counter.window_ends_at = counter.window_ends_at.replace(year=2000)
        await intake_db.commit()
        assert (await token(intake, EMAIL, WRONG)).status_code == 401
        # The ended windows are gone; the new failure starts two fresh counters.
        assert await intake_session.scalar(select(func.max(AttemptCounter.count))) == 1
        assert (await token(intake, EMAIL, PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    ("host", "subject"),
    [
        ("192.0.2.10", "192.0.2.10"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.10", "192.0.2.10"),
        ("unknown", "unknown"),
    ],
)
def test_ipv6_clients_are_counted_by_their_64_network(host, subject):
    assert client_subject(host) == subject
