"""The adapter's command line: `api`, `worker`, `migrate` and `operator-key`."""

from __future__ import annotations

from collections.abc import Callable

from crm_adapter import worker
from crm_adapter.app import create_app
from crm_adapter.config import Settings
from crm_adapter.migrations import migrate
from crm_adapter.operators.cli import COMMAND as OPERATOR_KEY
from shared import cli


def main(
    argv: list[str] | None = None,
    *,
    settings_factory: Callable[[], Settings] = Settings,
) -> None:
    cli.main(
        prog="python -m crm_adapter",
        settings_factory=settings_factory,
        create_app=create_app,
        loops=worker.loops,
        migrate=migrate,
        commands=[OPERATOR_KEY],
        argv=argv,
    )
