"""Fixtures of the adapter's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_adapter.cli import main
from crm_adapter.config import Settings
from devtools.crm_simulator.app import create_app as create_simulator
from devtools.crm_simulator.config import Settings as SimulatorSettings
from shared.db import make_engine, make_sessionmaker
from shared.settings import DEV_SECRETS
from tests.crm_adapter.deliveries import close_connector_clients
from tests.helpers import command_line
from tests.live import live


@pytest.fixture
def cli(adapter_settings, monkeypatch, capsys):
    """Runs `python -m crm_adapter …` in process on the test database; (status, out, err)."""
    return command_line(main, adapter_settings, monkeypatch, capsys)


@pytest.fixture
async def sessionmaker(
    adapter_settings: Settings,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the adapter's database, as its workers get them."""
    engine = make_engine(adapter_settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def crm() -> AsyncIterator[httpx.AsyncClient]:
    """The simulator over real HTTP (its webhooks go nowhere); the client reads it."""
    app = create_simulator(
        SimulatorSettings(
            webhook_url="http://127.0.0.1:9/webhooks/crm", webhook_attempts=1
        )
    )
    async with (
        live(app) as url,
        httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {DEV_SECRETS['crm_api_key']}"},
        ) as client,
    ):
        yield client


@pytest.fixture
async def close_clients() -> AsyncIterator[None]:
    """Closes the HTTP clients of the connectors `tests.crm_adapter.deliveries` made, after
    each test."""
    yield
    await close_connector_clients()
