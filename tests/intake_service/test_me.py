"""GET and PATCH /v1/me: each resident sees and changes only their own account."""

import pytest
from sqlalchemy import select

from intake_service.accounts.models import Account
from tests.helpers import register_and_sign_in


@pytest.fixture
async def two_residents(intake):
    anna = await register_and_sign_in(intake, "Anna@example.org", lang="de")
    jan = await register_and_sign_in(
        intake, "jan@example.org", name="Jan", verified=False
    )
    return anna, jan


class TestReadMe:
    async def test_each_token_sees_its_own_account(self, intake, two_residents):
        anna, jan = two_residents
        mine = await intake.get("/v1/me", headers=anna)
        theirs = await intake.get("/v1/me", headers=jan)
        assert mine.status_code == theirs.status_code == 200
        assert {
            k: v for k, v in mine.json().items() if k not in {"id", "created_at"}
        } == {
            "email": "Anna@example.org",
            "display_name": "Anna",
            "lang": "de",
            "email_verified": True,
            "notification_channels": {"push": True, "email": True},
        }
        assert theirs.json()["email"] == "jan@example.org"
        assert theirs.json()["email_verified"] is False
        assert mine.json()["id"] != theirs.json()["id"]

    async def test_needs_a_token(self, intake):
        response = await intake.get("/v1/me")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


class TestUpdateMe:
    async def test_changes_only_what_is_given_and_only_mine(
        self, intake, intake_session, two_residents
    ):
        anna, jan = two_residents
        changed = await intake.patch(
            "/v1/me",
            json={
                "display_name": "  Anna K. ",
                "notification_channels": {"email": False},
            },
            headers=anna,
        )
        assert changed.status_code == 200
        body = changed.json()
        assert body["display_name"] == "Anna K."
        assert body["lang"] == "de"
        assert body["notification_channels"] == {"push": True, "email": False}

        again = await intake.patch(
            "/v1/me",
            json={"lang": "pl", "notification_channels": {"push": False}},
            headers=anna,
        )
        assert again.json()["notification_channels"] == {"push": False, "email": False}
        assert again.json()["lang"] == "pl"
        assert (await intake.get("/v1/me", headers=anna)).json() == again.json()

        stored = {
            a.email_key: a
            for a in (await intake_session.scalars(select(Account))).all()
        }
        assert (
            stored["anna@example.org"].notify_push,
            stored["anna@example.org"].notify_email,
        ) == (False, False)
        assert (
            stored["jan@example.org"].notify_push,
            stored["jan@example.org"].notify_email,
        ) == (True, True)
        assert stored["jan@example.org"].display_name == "Jan"

    async def test_an_empty_change_changes_nothing(self, intake, two_residents):
        anna, _ = two_residents
        before = (await intake.get("/v1/me", headers=anna)).json()
        after = await intake.patch("/v1/me", json={}, headers=anna)
        assert after.status_code == 200
        assert after.json() == before

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"email": "other@example.org"}, "email"),
            ({"email_verified": True}, "email_verified"),
            ({"lang": "fr"}, "lang"),
            ({"display_name": ""}, "display_name"),
            ({"notification_channels": {"push": "no"}}, "notification_channels.push"),
            ({"notification_channels": {"sms": True}}, "notification_channels.sms"),
        ],
    )
    async def test_refuses_what_cannot_change(
        self, intake, two_residents, change, field
    ):
        anna, _ = two_residents
        response = await intake.patch("/v1/me", json=change, headers=anna)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]
        assert (await intake.get("/v1/me", headers=anna)).json()[
            "email_verified"
        ] is True

    async def test_needs_a_token(self, intake):
        response = await intake.patch("/v1/me", json={"lang": "en"})
        assert response.status_code == 401
