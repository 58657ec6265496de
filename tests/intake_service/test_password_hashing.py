"""Passwords are hashed with Argon2id at the costs the settings name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from intake_service.accounts.models import Account
from intake_service.accounts.passwords import hasher
from intake_service.app import create_app
from intake_service.config import Settings
from tests.helpers import (
    own_secrets,
    register,
    serve,
    sign_in,
)

EMAIL = "ola@example.org"


def costs(password_hash: str) -> str:
    """The `m=…,t=…,p=…` part of an Argon2 hash."""
    return password_hash.split("$")[3]


async def stored_hash(intake_session) -> str:
    account = await intake_session.scalar(
        select(Account).where(Account.email_key == EMAIL)
    )
    assert account is not None
    await intake_session.commit()  # the next read sees what was written since
    return account.password_hash


@pytest.fixture
def intake_settings(intake_settings):
    return intake_settings.model_copy(
        update={"password_hash_memory_kib": 2048, "password_hash_passes": 2}
    )


async def test_a_password_is_hashed_at_the_settings_costs(intake, intake_session):
    await register(intake, EMAIL)
    assert costs(await stored_hash(intake_session)) == "m=2048,t=2,p=4"


async def test_a_hash_made_at_other_costs_is_made_again_at_the_next_sign_in(
    intake, intake_settings, intake_session
):
    await register(intake, EMAIL)
    cheaper = intake_settings.model_copy(
        update={"password_hash_memory_kib": 1024, "password_hash_passes": 1}
    )
    async for elsewhere in serve(create_app(cheaper)):
        await sign_in(elsewhere, EMAIL)
    assert costs(await stored_hash(intake_session)) == "m=1024,t=1,p=4"
    # And back, with the same password.
    await sign_in(intake, EMAIL)
    assert costs(await stored_hash(intake_session)) == "m=2048,t=2,p=4"


@pytest.mark.usefixtures("production_password_hashing")
def test_by_default_a_hash_takes_64_mib_and_3_passes():
    password_hash = hasher(Settings()).hash("kolorowe-tramwaje-42")
    assert costs(password_hash) == "m=65536,t=3,p=4"


@pytest.mark.parametrize(
    ("memory_kib", "passes", "starts"),
    [
        # OWASP's settings, the largest and the least.
        (46 * 1024, 1, True),
        (7 * 1024, 5, True),
        (7 * 1024, 4, False),
        (19 * 1024, 1, False),
        (1024, 1, False),
    ],
)
def test_production_takes_no_less_than_owasps_least(memory_kib, passes, starts):
    configure = lambda: Settings(  # noqa: E731
        environment="production",
        password_hash_memory_kib=memory_kib,
        password_hash_passes=passes,
        **own_secrets(Settings),
    )
    if starts:
        assert configure().password_hash_memory_kib == memory_kib
    else:
        with pytest.raises(ValidationError, match="at least 35840 in production"):
            configure()
