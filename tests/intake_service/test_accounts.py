"""Registering, verifying the address with a code mailed over SMTP, and asking for another."""

import datetime as dt

import pytest
from sqlalchemy import select

from intake_service.accounts.models import Account, CodePurpose, EmailCode
from intake_service.notifications.models import Notification
from shared.contracts import ReportStatus
from tests.helpers import (
    PASSWORD,
    POTHOLE,
    bearer,
    code_in,
    latest_code,
    mails_to,
    register,
    register_and_sign_in,
    sign_in,
    verify,
)
from tests.intake_service.conftest import with_smtp
from tests.signed import status_event

NEW_ACCOUNT = {
    "email": "Jan@Example.org",
    "password": PASSWORD,
    "display_name": "Jan",
    "lang": "en",
}


@pytest.fixture
def intake_settings(intake_settings, smtp):
    """Intake mailing through the SMTP server of the test."""
    return with_smtp(intake_settings, smtp[1])


@pytest.fixture
def mailbox(inbox):
    return lambda: inbox.messages


async def stored_code(session, email: str, purpose: CodePurpose) -> EmailCode:
    code = await session.scalar(
        select(EmailCode)
        .join(Account, Account.id == EmailCode.account_id)
        .where(Account.email_key == email.lower(), EmailCode.purpose == purpose)
    )
    assert code is not None
    return code


async def move_code_back(
    session, email: str, by: dt.timedelta, purpose=CodePurpose.VERIFY_EMAIL
) -> None:
    """As if the code had been made and mailed `by` earlier."""
    code = await stored_code(session, email, purpose)
    code.created_at -= by
    code.expires_at -= by
    if code.sent_at is not None:
        code.sent_at -= by
    await session.commit()


async def verify_with(intake, email: str, code: str, **headers):
    return await intake.post(
        "/v1/accounts/verification",
        json={"email": email, "code": code},
        headers=headers,
    )


def another_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


class TestCreateAccount:
    async def test_creates_an_unverified_account_with_an_argon2id_hash(
        self, intake, intake_session, mailbox
    ):
        response = await intake.post("/v1/accounts", json=NEW_ACCOUNT)
        assert response.status_code == 201
        body = response.json()
        # The part before the @ keeps its case; the domain does not.
        assert body["email"] == "Jan@example.org"
        assert body["email_verified"] is False
        assert body["verification_email_sent"] is True
        assert body["notification_channels"] == {"push": True, "email": True}
        assert "password" not in response.text
        stored = await intake_session.scalar(
            select(Account).where(Account.email_key == "jan@example.org")
        )
        assert stored is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        assert stored.email_verified_at is None
        assert (stored.notify_push, stored.notify_email) == (True, True)

        # The code went out by mail; only a hash of it is stored.
        code = latest_code(mailbox, "Jan@example.org")
        row = await stored_code(
            intake_session, "jan@example.org", CodePurpose.VERIFY_EMAIL
        )
        assert code not in row.code_hash
        assert len(row.code_hash) == 64
        assert row.expires_at - row.created_at == dt.timedelta(minutes=15)

    async def test_the_code_arrives_in_the_accounts_language(self, intake, inbox):
        await register(intake, "karl@example.org", lang="de", name="Karl")
        [mail] = inbox.to("karl@example.org")
        assert mail["Subject"] == "Bestätigen Sie Ihre E-Mail-Adresse"
        text = mail.get_content()
        assert text.startswith("Hallo Karl,")
        assert "15 Min." in text
        assert len(code_in(mail)) == 6

        await register(intake, "ola@example.org", name="Ola")
        [mail] = inbox.to("ola@example.org")
        assert mail["Subject"] == "Potwierdź swój adres e-mail"
        assert mail.get_content().startswith("Cześć Ola,")

    async def test_the_same_address_in_another_case_is_a_conflict(self, intake):
        assert (await intake.post("/v1/accounts", json=NEW_ACCOUNT)).status_code == 201
        for email in ("jan@example.org", "JAN@EXAMPLE.ORG"):
            again = await intake.post(
                "/v1/accounts",
                json=NEW_ACCOUNT | {"email": email},
                headers={"Accept-Language": "en"},
            )
            assert again.status_code == 409
            assert again.headers["content-type"] == "application/problem+json"
            assert again.json()["type"] == "urn:mam:problem:email-taken"
            assert again.json()["title"] == "E-mail address already registered"

    @pytest.mark.parametrize(
        ("password", "code", "message"),
        [
            (
                "short",
                "string_too_short",
                "Tekst jest za krótki (minimalna długość: 10).",
            ),
            (
                "Haslo123456",
                "value_error",
                "To jedno z najczęściej używanych haseł. Wybierz inne.",
            ),
            (
                "QWERTYUIOP",
                "value_error",
                "To jedno z najczęściej używanych haseł. Wybierz inne.",
            ),
            (
                "passwort123",
                "value_error",
                "To jedno z najczęściej używanych haseł. Wybierz inne.",
            ),
            (
                "Mój-jan.kowalski-1",
                "value_error",
                "Hasło nie może zawierać Twojego adresu e-mail.",
            ),
        ],
    )
    async def test_weak_passwords_are_refused_with_a_polish_field_error(
        self, intake, intake_session, password, code, message
    ):
        response = await intake.post(
            "/v1/accounts",
            json=NEW_ACCOUNT
            | {"email": "Jan.Kowalski@example.org", "password": password},
        )
        assert response.status_code == 422
        assert response.json()["title"] == "Nieprawidłowe dane"
        assert response.json()["errors"] == [
            {"field": "password", "in": "body", "message": message, "code": code}
        ]
        assert await intake_session.scalar(select(Account)) is None

    async def test_a_bad_email_is_named(self, intake):
        response = await intake.post(
            "/v1/accounts", json=NEW_ACCOUNT | {"email": "not-an-email"}
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["email"]

    async def test_a_nul_character_is_refused_on_every_database(self, intake):
        response = await intake.post(
            "/v1/accounts", json=NEW_ACCOUNT | {"display_name": "J\x00n"}
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["display_name"]

    async def test_a_mail_that_cannot_be_sent_keeps_the_account(
        self, intake, inbox, mailbox
    ):
        inbox.fail_next = 1
        response = await intake.post("/v1/accounts", json=NEW_ACCOUNT)
        assert response.status_code == 201
        assert response.json()["verification_email_sent"] is False
        assert inbox.messages == []
        # The account is there: it signs in, and a new code can be asked for at once.
        await sign_in(intake, "jan@example.org")
        resent = await intake.post(
            "/v1/accounts/verification/resend", json={"email": "jan@example.org"}
        )
        assert resent.status_code == 202
        await verify(intake, "jan@example.org", mailbox)


class TestVerifyEmail:
    async def test_the_mailed_code_verifies_the_address_once(self, intake, mailbox):
        await register(intake, "ola@example.org")
        headers = bearer((await sign_in(intake, "ola@example.org"))["access_token"])
        assert (await intake.get("/v1/me", headers=headers)).json()[
            "email_verified"
        ] is False
        code = latest_code(mailbox, "ola@example.org")
        assert (await verify_with(intake, "OLA@example.org", code)).status_code == 204
        assert (await intake.get("/v1/me", headers=headers)).json()[
            "email_verified"
        ] is True
        again = await verify_with(intake, "ola@example.org", code)
        assert again.status_code == 400
        assert again.json()["type"] == "urn:mam:problem:invalid-code"

    async def test_five_wrong_codes_void_it_until_a_new_one_is_sent(
        self, intake, mailbox
    ):
        await register(intake, "ola@example.org")
        code = latest_code(mailbox, "ola@example.org")
        for _ in range(5):
            wrong = await verify_with(intake, "ola@example.org", another_code(code))
            assert wrong.status_code == 400
            assert wrong.json()["type"] == "urn:mam:problem:invalid-code"
        void = await verify_with(
            intake, "ola@example.org", code, **{"Accept-Language": "en"}
        )
        assert void.status_code == 400
        assert void.json()["type"] == "urn:mam:problem:code-expired"
        assert "Ask for a new code" in void.json()["detail"]

        # A void code may be replaced at once, and the new one works.
        resent = await intake.post(
            "/v1/accounts/verification/resend", json={"email": "ola@example.org"}
        )
        assert resent.status_code == 202
        assert len(mails_to(mailbox, "ola@example.org")) == 2
        new_code = latest_code(mailbox, "ola@example.org")
        assert (await verify_with(intake, "ola@example.org", code)).status_code == 400
        assert (
            await verify_with(intake, "ola@example.org", new_code)
        ).status_code == 204

    async def test_an_expired_code_is_refused(self, intake, intake_db, mailbox):
        await register(intake, "ola@example.org")
        code = latest_code(mailbox, "ola@example.org")
        await move_code_back(intake_db, "ola@example.org", dt.timedelta(minutes=15))
        expired = await verify_with(intake, "ola@example.org", code)
        assert expired.status_code == 400
        assert expired.json()["type"] == "urn:mam:problem:code-expired"

    async def test_an_unknown_address_gets_the_answer_of_a_wrong_code(
        self, intake, mailbox
    ):
        await register(intake, "ola@example.org")
        code = latest_code(mailbox, "ola@example.org")
        unknown = await verify_with(intake, "nobody@example.org", code)
        wrong = await verify_with(intake, "ola@example.org", another_code(code))
        assert unknown.status_code == wrong.status_code == 400
        assert unknown.json() == wrong.json()

    async def test_a_malformed_code_is_a_field_error(self, intake):
        response = await verify_with(intake, "ola@example.org", "12a456")
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["code"]


class TestResendCode:
    async def test_at_most_one_mail_a_minute(self, intake, intake_db, mailbox):
        await register(intake, "ola@example.org")
        first = latest_code(mailbox, "ola@example.org")
        soon = await intake.post(
            "/v1/accounts/verification/resend", json={"email": "ola@example.org"}
        )
        assert soon.status_code == 202
        assert len(mails_to(mailbox, "ola@example.org")) == 1

        await move_code_back(intake_db, "ola@example.org", dt.timedelta(seconds=61))
        later = await intake.post(
            "/v1/accounts/verification/resend", json={"email": "ola@example.org"}
        )
        assert later.status_code == 202
        assert len(mails_to(mailbox, "ola@example.org")) == 2
        second = latest_code(mailbox, "ola@example.org")
        # Only the newest code works.
        assert (await verify_with(intake, "ola@example.org", first)).status_code == 400
        assert (await verify_with(intake, "ola@example.org", second)).status_code == 204

    async def test_the_answer_tells_nothing_about_the_address(self, intake, mailbox):
        await register_and_sign_in(intake, "ola@example.org", mailbox=mailbox)
        answers = [
            await intake.post("/v1/accounts/verification/resend", json={"email": email})
            for email in ("nobody@example.org", "ola@example.org")
        ]
        for answer in answers:
            assert (answer.status_code, answer.content) == (202, b"")
        assert answers[0].headers.keys() == answers[1].headers.keys()
        # Nothing for an unknown address, nothing more for a verified one.
        assert mails_to(mailbox, "nobody@example.org") == []
        assert len(mails_to(mailbox, "ola@example.org")) == 1


async def notifications(intake, headers) -> list[str]:
    feed = (await intake.get("/v1/me/notifications", headers=headers)).json()
    return [item["status"] for item in feed["items"]]


class TestNotificationsWaitForVerification:
    async def test_an_unverified_account_is_told_nothing_until_it_verifies(
        self, intake, intake_session, mailbox
    ):
        anna = await register_and_sign_in(
            intake, "anna@example.org", verified=False, lang="de"
        )
        ola = await register_and_sign_in(intake, "ola@example.org", mailbox=mailbox)
        kim = await register_and_sign_in(intake, "kim@example.org", verified=False)
        created = await intake.post("/v1/reports", json=POTHOLE, headers=anna)
        assert created.status_code == 201
        report_id = created.json()["id"]
        for supporter in (ola, kim):
            supported = await intake.post(
                f"/v1/reports/{report_id}/supporters", headers=supporter
            )
            assert supported.status_code == 201

        body, signed = status_event(report_id, ReportStatus.IN_PROGRESS, 1)
        assert (
            await intake.post("/internal/events", content=body, headers=signed)
        ).status_code == 202
        assert await notifications(intake, ola) == ["in_progress"]
        assert await notifications(intake, anna) == []
        assert await notifications(intake, kim) == []
        told = await intake_session.scalars(select(Notification.account_id))
        assert len(told.all()) == 1

        # Verified now: the report is named from here on; what happened before stays untold.
        await verify(intake, "anna@example.org", mailbox)
        body, signed = status_event(report_id, ReportStatus.RESOLVED, 2)
        await intake.post("/internal/events", content=body, headers=signed)
        feed = (await intake.get("/v1/me/notifications", headers=anna)).json()
        # The change, and the question whether it was really fixed.
        assert [(n["kind"], n["status"]) for n in feed["items"]] == [
            ("feedback_requested", "resolved"),
            ("status_changed", "resolved"),
        ]
        assert "erledigt" in feed["items"][1]["text"]
        assert await notifications(intake, ola) == ["resolved", "in_progress"]
        assert await notifications(intake, kim) == []
