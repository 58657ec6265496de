"""Small helpers the tests share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import httpx
from fastapi import FastAPI

from shared.operators import ConfiguredKey, Role, hash_key

T = TypeVar("T")

POLL_INTERVAL = 0.05


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    within: float = 15.0,
    what: str = "condition",
) -> T:
    """Poll `probe` until it returns something truthy, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(POLL_INTERVAL)
    raise AssertionError(f"{what} not reached within {within} s (last: {last!r})")


async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app in process, its lifespan started."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client,
    ):
        yield client


PASSWORD = "kolorowe-tramwaje-42"


async def register_and_sign_in(
    client: httpx.AsyncClient, email: str, *, lang: str = "pl", name: str = "Anna"
) -> dict[str, str]:
    """Create an account and return the Authorization header of a fresh token."""
    created = await client.post(
        "/v1/accounts",
        json={"email": email, "password": PASSWORD, "display_name": name, "lang": lang},
    )
    assert created.status_code == 201, created.text
    token = await client.post(
        "/v1/auth/token", json={"email": email, "password": PASSWORD}
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


POTHOLE = {
    "category": "pothole",
    "location": {"lat": 51.1097, "lon": 17.0326},
    "description": "Głęboka dziura na prawym pasie",
}


# Operator keys every test app knows from its settings (as INTAKE_OPERATOR_KEYS would give).
MANAGE_KEY = "mam_op_test-only-manage-4f1d2b8e9c0a7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"
READ_KEY = "mam_op_test-only-read-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c"
MANAGE = {"X-API-Key": MANAGE_KEY}
READ = {"X-API-Key": READ_KEY}
OPERATOR_KEYS = [
    ConfiguredKey(name="city-manager", role=Role.MANAGE, sha256=hash_key(MANAGE_KEY)),
    ConfiguredKey(name="city-analyst", role=Role.READ, sha256=hash_key(READ_KEY)),
]
