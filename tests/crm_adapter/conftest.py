"""Fixtures of the adapter's own tests."""

from __future__ import annotations

import pytest

from crm_adapter.cli import main
from tests.helpers import command_line


@pytest.fixture
def cli(adapter_settings, monkeypatch, capsys):
    """Runs `python -m crm_adapter …` in process on the test database; (status, out, err)."""
    return command_line(main, adapter_settings, monkeypatch, capsys)
