"""Fixtures of intake's tests: an SMTP server, a session that may change the data, the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.cli import main
from intake_service.config import Settings
from shared.db import make_engine, make_sessionmaker
from tests.helpers import command_line
from tests.smtp import Inbox, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    yield from smtp_server()


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


def with_smtp(settings: Settings, port: int) -> Settings:
    """The settings, mailing through the SMTP server on `port` of this machine."""
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"}
    )


@pytest.fixture
async def intake_db(intake_settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on intake's database that may write: to move stored times into the past.

    Commit right after each change: on SQLite an open write holds the database's lock.
    """
    engine = make_engine(intake_settings.database_url)
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


@pytest.fixture
def cli(intake_settings, monkeypatch, capsys):
    """Runs `python -m intake_service …` in process on the test database; (status, out, err)."""
    return command_line(main, intake_settings, monkeypatch, capsys)
