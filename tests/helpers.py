"""Small helpers the tests share."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

import shared.cli
from shared.operators import ConfiguredKey, Role, hash_key
from shared.settings import DEV_SECRETS, ServiceSettings

T = TypeVar("T")

POLL_INTERVAL = 0.05

WARSAW = ZoneInfo("Europe/Warsaw")
"""The time zone of the default calendar (`MAM_TIME_ZONE`)."""

MONDAY_MORNING = dt.datetime(2026, 12, 7, 10, 0, tzinfo=WARSAW)
"""A working Monday at 10:00 in Warsaw, the `clock` fixture's start: far from holidays and
clock changes."""


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


class AppClient(httpx.AsyncClient):
    """An HTTP client of an app in process; `app` is there to look at its settings."""

    def __init__(self, app: FastAPI, address: str = "127.0.0.1") -> None:
        """`address` is the client's IP address the app sees."""
        super().__init__(
            transport=httpx.ASGITransport(app=app, client=(address, 50000)),
            base_url="http://test",
        )
        self.app = app


async def serve(app: FastAPI) -> AsyncIterator[AppClient]:
    """An HTTP client of the app in process, its lifespan started."""
    async with app.router.lifespan_context(app), AppClient(app) as client:
        yield client


PASSWORD = "kolorowe-tramwaje-42"

CHEAP_PASSWORD_HASHING = {
    "INTAKE_PASSWORD_HASH_MEMORY_KIB": "1024",
    "INTAKE_PASSWORD_HASH_PASSES": "1",
}
"""Argon2id at the least cost intake takes, for the tests' services."""

Mailbox = Callable[[], Sequence[EmailMessage]]
"""The mails received so far, oldest first."""


def mails_in(folder: Path) -> list[EmailMessage]:
    """The `.eml` files a folder mailer wrote, oldest first (their names start with the time)."""
    mails = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        mails.append(message)
    return mails


def folder_mailbox(folder: Path) -> Mailbox:
    return lambda: mails_in(folder)


def app_mailbox(client: httpx.AsyncClient) -> Mailbox:
    """The mail folder of an app in process that uses the default folder mailer."""
    assert isinstance(client, AppClient), "pass a mailbox for a client over the network"
    settings = client.app.state.settings
    assert settings.smtp_host is None, "pass the SMTP server's inbox as mailbox"
    return folder_mailbox(settings.data_dir / "mail")


def mails_to(mailbox: Mailbox, address: str) -> list[EmailMessage]:
    """The mails to `address`, in any case."""
    return [m for m in mailbox() if str(m["To"]).lower() == address.lower()]


def code_in(message: EmailMessage) -> str:
    """The 6-digit code a mail carries (on a line of its own)."""
    text = message.get_content()
    codes = re.findall(r"^\s*(\d{6})\s*$", text, flags=re.MULTILINE)
    assert len(codes) == 1, text
    return str(codes[0])


def latest_code(mailbox: Mailbox, address: str) -> str:
    mails = mails_to(mailbox, address)
    assert mails, f"no mail to {address}"
    return code_in(mails[-1])


async def register(
    client: httpx.AsyncClient,
    email: str,
    *,
    lang: str = "pl",
    name: str = "Anna",
    password: str = PASSWORD,
) -> dict[str, Any]:
    created = await client.post(
        "/v1/accounts",
        json={"email": email, "password": password, "display_name": name, "lang": lang},
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def verify(client: httpx.AsyncClient, email: str, mailbox: Mailbox) -> None:
    verified = await client.post(
        "/v1/accounts/verification",
        json={"email": email, "code": latest_code(mailbox, email)},
    )
    assert verified.status_code == 204, verified.text


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    """The token pair of a new sign-in."""
    token = await client.post(
        "/v1/auth/token", json={"email": email, "password": password}
    )
    assert token.status_code == 200, token.text
    body: dict[str, Any] = token.json()
    return body


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def register_and_sign_in(
    client: httpx.AsyncClient,
    email: str,
    *,
    lang: str = "pl",
    name: str = "Anna",
    verified: bool = True,
    mailbox: Mailbox | None = None,
) -> dict[str, str]:
    """Create an account, verify its address with the mailed code (unless `verified` is
    false) and return the Authorization header of a fresh access token."""
    await register(client, email, lang=lang, name=name)
    if verified:
        await verify(client, email, mailbox or app_mailbox(client))
    return bearer((await sign_in(client, email))["access_token"])


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

# The Open311 client key every test intake knows (as INTAKE_OPEN311_API_KEYS would give).
OPEN311_KEY = "mam_op_test-only-open311-1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e"
OPEN311_KEYS = [ConfiguredKey(name="fixmystreet", sha256=hash_key(OPEN311_KEY))]


def command_line(
    main: Callable[..., None],
    settings: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Awaitable[tuple[int, str, str]]]:
    """Runs a service's command line in process with `settings`; (status, out, err)."""
    # The command would set up the process's logging; the test runner owns it here.
    monkeypatch.setattr(shared.cli, "configure_logging", lambda **_: None)

    async def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            await asyncio.to_thread(main, list(argv), settings_factory=lambda: settings)
            status = 0
        except SystemExit as exit_:
            status = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return status, out, err

    return run


async def route_unit_to(adapter: httpx.AsyncClient, unit: str, connector: str) -> None:
    """Have `unit` served by `connector`, as an operator would: a new routing version."""
    current = await adapter.get("/admin/routing", headers=READ)
    assert current.status_code == 200, current.text
    table = current.json()
    body = {
        "comment": f"{unit} on {connector}",
        "units": [
            {
                "code": u["code"],
                "name": u["name"],
                "connector": connector if u["code"] == unit else u["connector"],
            }
            for u in table["units"]
        ],
        "rules": [
            {k: v for k, v in rule.items() if k not in ("id", "position")}
            for rule in table["rules"]
        ],
    }
    response = await adapter.put(
        "/admin/routing",
        json=body,
        headers={**MANAGE, "If-Match": current.headers["ETag"]},
    )
    assert response.status_code == 200, response.text


def own_secrets(settings: type[ServiceSettings]) -> dict[str, Any]:
    """A fresh secret for every secret the development defaults fill in."""
    defaults = settings(environment="development")
    return {
        name: SecretStr("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
        for name, value in defaults
        if isinstance(value, SecretStr)
        and value.get_secret_value() in DEV_SECRETS.values()
    }
