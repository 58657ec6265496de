"""Signing in, rotating refresh tokens, reuse detection, signing out, expiry."""

import datetime as dt
import hashlib

from sqlalchemy import select

from intake_service.accounts.models import AccessToken, TokenFamily
from tests.helpers import (
    PASSWORD,
    POTHOLE,
    bearer,
    register,
    register_and_sign_in,
    sign_in,
)

EMAIL = "ola@example.org"


async def me(intake, access_token: str):
    return await intake.get("/v1/me", headers=bearer(access_token))


async def refresh(intake, refresh_token: str):
    return await intake.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


class TestSignIn:
    async def test_a_pair_of_opaque_tokens_only_their_hashes_stored(
        self, intake, intake_session
    ):
        await register(intake, EMAIL)
        signed_in = await intake.post(
            "/v1/auth/token", json={"email": EMAIL, "password": PASSWORD}
        )
        # Credentials: no cache on the way keeps them.
        assert signed_in.headers["cache-control"] == "no-store"
        pair = signed_in.json()
        assert pair["token_type"] == "bearer"
        assert (pair["expires_in"], pair["refresh_expires_in"]) == (900, 30 * 24 * 3600)
        assert (await me(intake, pair["access_token"])).json()["email"] == EMAIL

        [access] = (await intake_session.scalars(select(AccessToken))).all()
        [family] = (await intake_session.scalars(select(TokenFamily))).all()
        assert (
            access.token_hash
            == hashlib.sha256(pair["access_token"].encode()).hexdigest()
        )
        assert (
            family.refresh_hash
            == hashlib.sha256(pair["refresh_token"].encode()).hexdigest()
        )
        assert access.expires_at - access.created_at == dt.timedelta(minutes=15)

    async def test_the_address_is_compared_without_case(self, intake):
        await register(intake, "Ola.Nowak@example.org")
        for email in ("ola.nowak@EXAMPLE.org", "OLA.NOWAK@example.org"):
            await sign_in(intake, email)

    async def test_a_wrong_password_and_an_unknown_address_get_the_same_401(
        self, intake
    ):
        await register(intake, EMAIL)
        wrong = await intake.post(
            "/v1/auth/token", json={"email": EMAIL, "password": "wrong-password-1"}
        )
        unknown = await intake.post(
            "/v1/auth/token", json={"email": "nobody@example.org", "password": PASSWORD}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        assert wrong.json()["type"] == "urn:mam:problem:invalid-credentials"

    async def test_an_unverified_account_signs_in_and_files_reports(self, intake):
        headers = await register_and_sign_in(intake, EMAIL, verified=False)
        me_now = await intake.get("/v1/me", headers=headers)
        assert me_now.json()["email_verified"] is False
        assert (
            await intake.post("/v1/reports", json=POTHOLE, headers=headers)
        ).status_code == 201


class TestRefresh:
    async def test_rotates_the_refresh_token(self, intake):
        await register(intake, EMAIL)
        first = await sign_in(intake, EMAIL)
        second = await refresh(intake, first["refresh_token"])
        assert second.status_code == 200
        assert second.headers["cache-control"] == "no-store"
        pair = second.json()
        assert pair["refresh_token"] != first["refresh_token"]
        assert pair["access_token"] != first["access_token"]
        assert (pair["expires_in"], pair["refresh_expires_in"]) == (900, 30 * 24 * 3600)
        assert (await me(intake, pair["access_token"])).status_code == 200
        third = await refresh(intake, pair["refresh_token"])
        assert third.status_code == 200

    async def test_a_reused_refresh_token_ends_its_whole_family(self, intake):
        await register(intake, EMAIL)
        other_device = await sign_in(intake, EMAIL)
        stolen = await sign_in(intake, EMAIL)
        rotated = (await refresh(intake, stolen["refresh_token"])).json()

        reused = await refresh(intake, stolen["refresh_token"])
        assert reused.status_code == 401
        assert reused.json()["type"] == "urn:mam:problem:invalid-refresh-token"
        # The new pair dies with it, and so does the first access token.
        for access_token in (rotated["access_token"], stolen["access_token"]):
            assert (await me(intake, access_token)).status_code == 401
        assert (await refresh(intake, rotated["refresh_token"])).status_code == 401
        # Another sign-in of the same account is not touched.
        assert (await me(intake, other_device["access_token"])).status_code == 200
        assert (await refresh(intake, other_device["refresh_token"])).status_code == 200

    async def test_unknown_and_malformed_tokens_are_refused(self, intake):
        await register(intake, EMAIL)
        pair = await sign_in(intake, EMAIL)
        family = pair["refresh_token"].split(".")[0]
        for token in ("x", "." * 40, f"{'0' * 32}.abc", f"{family[:-1]}g.abc"):
            response = await refresh(intake, token)
            assert response.status_code == 401, token
            assert response.json()["type"] == "urn:mam:problem:invalid-refresh-token"

    async def test_an_expired_refresh_token_is_refused(self, intake, intake_db):
        await register(intake, EMAIL)
        pair = await sign_in(intake, EMAIL)
        family = await intake_db.scalar(select(TokenFamily))
        family.refresh_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await intake_db.commit()
        assert (await refresh(intake, pair["refresh_token"])).status_code == 401


class TestAccessToken:
    async def test_an_expired_access_token_is_a_401_and_refresh_helps(
        self, intake, intake_db
    ):
        await register(intake, EMAIL)
        pair = await sign_in(intake, EMAIL)
        access = await intake_db.scalar(select(AccessToken))
        access.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await intake_db.commit()
        expired = await me(intake, pair["access_token"])
        assert expired.status_code == 401
        assert expired.json()["type"] == "urn:mam:problem:not-authenticated"
        assert expired.headers["www-authenticate"].startswith("Bearer")
        renewed = (await refresh(intake, pair["refresh_token"])).json()
        assert (await me(intake, renewed["access_token"])).status_code == 200

    async def test_notifications_need_a_valid_token(self, intake):
        assert (await intake.get("/v1/me/notifications")).status_code == 401
        forged = await intake.get(
            "/v1/me/notifications", headers={"Authorization": "Bearer forged-token"}
        )
        assert forged.status_code == 401
        assert forged.headers["www-authenticate"].startswith("Bearer")


class TestLogout:
    async def test_ends_the_sign_in_and_only_that(self, intake):
        await register(intake, EMAIL)
        phone = await sign_in(intake, EMAIL)
        rotated = (await refresh(intake, phone["refresh_token"])).json()
        tablet = await sign_in(intake, EMAIL)

        out = await intake.post(
            "/v1/auth/logout", headers=bearer(rotated["access_token"])
        )
        assert (out.status_code, out.content) == (204, b"")
        for access_token in (rotated["access_token"], phone["access_token"]):
            assert (await me(intake, access_token)).status_code == 401
        assert (await refresh(intake, rotated["refresh_token"])).status_code == 401
        again = await intake.post(
            "/v1/auth/logout", headers=bearer(rotated["access_token"])
        )
        assert again.status_code == 401
        assert (await me(intake, tablet["access_token"])).status_code == 200

    async def test_needs_a_token(self, intake):
        response = await intake.post("/v1/auth/logout")
        assert response.status_code == 401
        assert response.json()["type"] == "urn:mam:problem:not-authenticated"
