"""Fixtures of intake's tests."""

from __future__ import annotations

import asyncio

import pytest

import shared.cli
from intake_service.cli import main


@pytest.fixture
def cli(intake_settings, monkeypatch, capsys):
    """Runs `python -m intake_service …` in process on the test database; (status, out, err)."""
    # The command would set up the process's logging; the test runner owns it here.
    monkeypatch.setattr(shared.cli, "configure_logging", lambda **_: None)

    async def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            await asyncio.to_thread(
                main, list(argv), settings_factory=lambda: intake_settings
            )
            status = 0
        except SystemExit as exit_:
            status = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return status, out, err

    return run
