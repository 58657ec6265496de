"""A new password by a code mailed over SMTP: the flow, and nothing told about addresses."""

import datetime as dt

import pytest
from sqlalchemy import select

from intake_service.accounts.models import Account, CodePurpose, EmailCode
from tests.helpers import (
    PASSWORD,
    bearer,
    latest_code,
    mails_to,
    register,
    sign_in,
)
from tests.intake_service.conftest import with_smtp

EMAIL = "ola@example.org"
NEW_PASSWORD = "zielone-rowery-przy-odrze"


@pytest.fixture
def intake_settings(intake_settings, smtp):
    return with_smtp(intake_settings, smtp[1])


@pytest.fixture
def mailbox(inbox):
    return lambda: inbox.messages


async def ask_for_code(intake, email: str):
    return await intake.post("/v1/auth/password-reset", json={"email": email})


async def confirm(intake, code: str, new_password: str = NEW_PASSWORD, **headers):
    return await intake.post(
        "/v1/auth/password-reset/confirm",
        json={"email": EMAIL, "code": code, "new_password": new_password},
        headers=headers,
    )


class TestPasswordReset:
    async def test_the_whole_flow(self, intake, intake_session, inbox, mailbox):
        await register(intake, EMAIL, name="Ola")  # left unverified
        phone = await sign_in(intake, EMAIL)
        tablet = await sign_in(intake, EMAIL)
        registered = await intake.post(
            "/v1/me/devices",
            json={"platform": "android", "token": "fcm-token-of-a-lost-phone"},
            headers=bearer(phone["access_token"]),
        )
        assert registered.status_code == 201

        asked = await ask_for_code(intake, "OLA@example.org")
        assert (asked.status_code, asked.content) == (202, b"")
        mail = mails_to(mailbox, EMAIL)[-1]
        assert mail["Subject"] == "Twój kod do ustawienia nowego hasła"
        assert "nowe hasło" in mail.get_content()
        code = latest_code(mailbox, EMAIL)

        weak = await confirm(intake, code, new_password="qwertyuiop123")
        assert weak.status_code == 422
        assert [e["field"] for e in weak.json()["errors"]] == ["new_password"]
        wrong = await confirm(intake, f"{(int(code) + 1) % 1_000_000:06d}")
        assert wrong.status_code == 400
        assert wrong.json()["type"] == "urn:mam:problem:invalid-code"

        done = await confirm(intake, code)
        assert (done.status_code, done.content) == (204, b"")
        # Every sign-in of the account ends, on every device.
        for pair in (phone, tablet):
            assert (
                await intake.get("/v1/me", headers=bearer(pair["access_token"]))
            ).status_code == 401
            assert (
                await intake.post(
                    "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
                )
            ).status_code == 401
        old = await intake.post(
            "/v1/auth/token", json={"email": EMAIL, "password": PASSWORD}
        )
        assert old.status_code == 401
        fresh = await sign_in(intake, EMAIL, NEW_PASSWORD)
        # A phone in other hands gets no more pushes.
        devices = await intake.get(
            "/v1/me/devices", headers=bearer(fresh["access_token"])
        )
        assert devices.json() == []
        me = (await intake.get("/v1/me", headers=bearer(fresh["access_token"]))).json()
        # The code came through the address: it counts as verified.
        assert me["email_verified"] is True
        assert (await confirm(intake, code)).status_code == 400
        # No code is left pending, the verification code included.
        assert await intake_session.scalar(select(EmailCode)) is None

    async def test_unknown_addresses_get_the_same_answer_and_no_mail(
        self, intake, inbox
    ):
        await register(intake, EMAIL)
        known = await ask_for_code(intake, EMAIL)
        unknown = await ask_for_code(intake, "nobody@example.org")
        assert (known.status_code, known.content) == (
            unknown.status_code,
            unknown.content,
        )
        assert known.headers.keys() == unknown.headers.keys()
        assert inbox.to("nobody@example.org") == []
        assert len(inbox.to(EMAIL)) == 2  # the verification code, the reset code

    async def test_a_second_request_within_a_minute_sends_nothing(
        self, intake, inbox, mailbox
    ):
        await register(intake, EMAIL)
        await ask_for_code(intake, EMAIL)
        first = latest_code(mailbox, EMAIL)
        assert (await ask_for_code(intake, EMAIL)).status_code == 202
        assert len(inbox.to(EMAIL)) == 2
        assert (await confirm(intake, first)).status_code == 204

    async def test_an_expired_code_is_refused(self, intake, intake_db, mailbox):
        await register(intake, EMAIL)
        await ask_for_code(intake, EMAIL)
        code = latest_code(mailbox, EMAIL)
        stored = await intake_db.scalar(
            select(EmailCode).where(EmailCode.purpose == CodePurpose.RESET_PASSWORD)
        )
        stored.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await intake_db.commit()
        response = await confirm(intake, code, **{"Accept-Language": "de"})
        assert response.status_code == 400
        assert response.json()["type"] == "urn:mam:problem:code-expired"
        assert response.json()["title"] == "Der Code ist nicht mehr gültig"
        account = await intake_db.scalar(select(Account))
        await intake_db.refresh(account)
        assert account.email_verified_at is None

    async def test_a_verification_code_does_not_reset_the_password(
        self, intake, mailbox
    ):
        await register(intake, EMAIL)
        verification_code = latest_code(mailbox, EMAIL)
        await ask_for_code(intake, EMAIL)
        reset_code = latest_code(mailbox, EMAIL)
        response = await confirm(intake, verification_code)
        assert response.json()["type"] == "urn:mam:problem:invalid-code"
        verified = await intake.post(
            "/v1/accounts/verification", json={"email": EMAIL, "code": reset_code}
        )
        assert verified.json()["type"] == "urn:mam:problem:invalid-code"
