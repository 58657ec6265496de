from sqlalchemy import select

from intake_service.accounts.models import Account
from tests.helpers import PASSWORD, register_and_sign_in

NEW_ACCOUNT = {
    "email": "Jan@Example.org",
    "password": PASSWORD,
    "display_name": "Jan",
    "lang": "en",
}


class TestCreateAccount:
    async def test_creates_an_account_with_an_argon2id_hash(
        self, intake, intake_session
    ):
        response = await intake.post("/v1/accounts", json=NEW_ACCOUNT)
        assert response.status_code == 201
        body = response.json()
        assert body["email"] == "jan@example.org"
        assert "password" not in response.text
        stored = await intake_session.scalar(
            select(Account).where(Account.email == body["email"])
        )
        assert stored is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash

    async def test_the_same_address_twice_is_a_conflict(self, intake):
        assert (await intake.post("/v1/accounts", json=NEW_ACCOUNT)).status_code == 201
        again = await intake.post(
            "/v1/accounts",
            json=NEW_ACCOUNT | {"email": "jan@example.org"},
            headers={"Accept-Language": "en"},
        )
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["type"] == "urn:mam:problem:email-taken"
        assert again.json()["title"] == "E-mail address already registered"

    async def test_short_password_and_bad_email_are_named(self, intake):
        response = await intake.post(
            "/v1/accounts",
            json=NEW_ACCOUNT | {"email": "not-an-email", "password": "short"},
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"email", "password"}
        assert response.json()["title"] == "Nieprawidłowe dane"

    async def test_a_nul_character_is_refused_on_every_database(self, intake):
        response = await intake.post(
            "/v1/accounts", json=NEW_ACCOUNT | {"display_name": "J\x00n"}
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["display_name"]


class TestToken:
    async def test_a_token_opens_my_notifications(self, intake):
        headers = await register_and_sign_in(intake, "ola@example.org")
        response = await intake.get("/v1/me/notifications", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"items": [], "unread_count": 0, "next_cursor": None}

    async def test_wrong_password_is_a_401(self, intake):
        await intake.post("/v1/accounts", json=NEW_ACCOUNT)
        response = await intake.post(
            "/v1/auth/token",
            json={"email": NEW_ACCOUNT["email"], "password": "wrong-password-1"},
        )
        assert response.status_code == 401
        assert response.json()["type"] == "urn:mam:problem:invalid-credentials"

    async def test_an_unknown_account_gets_the_same_answer(self, intake):
        response = await intake.post(
            "/v1/auth/token", json={"email": "nobody@example.org", "password": PASSWORD}
        )
        assert response.status_code == 401
        assert response.json()["type"] == "urn:mam:problem:invalid-credentials"

    async def test_notifications_need_a_valid_token(self, intake):
        assert (await intake.get("/v1/me/notifications")).status_code == 401
        forged = await intake.get(
            "/v1/me/notifications", headers={"Authorization": "Bearer forged-token"}
        )
        assert forged.status_code == 401
        assert forged.headers["www-authenticate"].startswith("Bearer")
