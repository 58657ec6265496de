"""Whose address a request comes from: a forwarded one only from a proxy named in the settings.

Each test starts `python -m intake_service api` itself, as deployed (uvicorn's handling of
forwarded headers is configured there), and reads the address intake saw from the sign-in
counters it keeps per client address.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from intake_service.accounts.limits import signin_of_client
from intake_service.config import Settings
from intake_service.throttling.models import AttemptCounter
from shared.db import make_engine, make_sessionmaker
from tests.databases import Databases
from tests.e2e.processes import Start, start_intake

# Whose address is believed is settled by uvicorn before any query (the counters it is
# read from are tried on both databases in the throttling tests): one database is enough.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("backend", ["sqlite"], indirect=True),
]

FORWARDED = "203.0.113.7"
CLIENTS_LIMIT = 2

LIMITED = {"INTAKE_THROTTLE_SIGNIN_PER_CLIENT": str(CLIENTS_LIMIT)}

__all__ = ["start_intake"]  # the fixture


async def failed_sign_in(
    client: httpx.AsyncClient, email: str, forwarded_for: str
) -> httpx.Response:
    return await client.post(
        "/v1/auth/token",
        json={"email": email, "password": "not-the-password-1"},
        headers={"X-Forwarded-For": forwarded_for},
    )


async def counted_clients(database_url: str, *hosts: str) -> set[str]:
    """Those of `hosts` intake has counted a failed sign-in of."""
    keys = {signin_of_client(Settings(), host).key: host for host in hosts}
    engine = make_engine(database_url, read_only=True)
    try:
        async with make_sessionmaker(engine)() as session:
            found = await session.scalars(
                select(AttemptCounter.key).where(AttemptCounter.key.in_(keys))
            )
            return {keys[key] for key in found}
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "environment",
    [
        {},
        # uvicorn's own variable (as these docs once said to set) is not read.
        {"FORWARDED_ALLOW_IPS": "127.0.0.1"},
    ],
    ids=["nothing-set", "uvicorn-variable"],
)
async def test_by_default_a_forwarded_address_is_not_believed(
    start_intake: Start, clean_intake: Databases, environment: dict[str, str]
):
    url = start_intake(**LIMITED, **environment)
    async with httpx.AsyncClient(base_url=url) as client:
        first = await failed_sign_in(client, "a@example.org", FORWARDED)
        assert first.status_code == 401
        assert await counted_clients(clean_intake.intake, "127.0.0.1", FORWARDED) == {
            "127.0.0.1"
        }
        # A client naming another address with each guess is still one client.
        second = await failed_sign_in(client, "b@example.org", "203.0.113.8")
        assert second.status_code == 401
        third = await failed_sign_in(client, "c@example.org", "203.0.113.9")
        assert third.status_code == 429
        assert third.json()["type"] == "urn:mam:problem:too-many-attempts"


async def test_a_trusted_proxy_forwards_the_clients_address(
    start_intake: Start, clean_intake: Databases
):
    url = start_intake(**LIMITED, INTAKE_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8")
    async with httpx.AsyncClient(base_url=url) as proxy:
        for n, email in enumerate(["a@example.org", "b@example.org", "c@example.org"]):
            response = await failed_sign_in(proxy, email, f"203.0.113.{7 + n}")
            assert response.status_code == 401  # three residents, one guess each
    assert await counted_clients(clean_intake.intake, "127.0.0.1", FORWARDED) == {
        FORWARDED
    }
    # Another address of this host is no proxy named: what it forwards is not believed.
    elsewhere = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=url, transport=elsewhere) as client:
        response = await failed_sign_in(client, "d@example.org", "198.51.100.1")
        assert response.status_code == 401
    assert await counted_clients(clean_intake.intake, "127.0.0.2", "198.51.100.1") == {
        "127.0.0.2"
    }
