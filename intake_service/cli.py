"""Intake's command line: `api`, `worker`, `migrate`, `operator-key`, `open311-key` and `retention`."""

from __future__ import annotations

from collections.abc import Callable

from intake_service import worker
from intake_service.app import create_app
from intake_service.config import Settings
from intake_service.migrations import migrate
from intake_service.open311.cli import COMMAND as OPEN311_KEY
from intake_service.operators.cli import COMMAND as OPERATOR_KEY
from intake_service.privacy.retention import COMMAND as RETENTION
from shared import cli


def main(
    argv: list[str] | None = None,
    *,
    settings_factory: Callable[[], Settings] = Settings,
) -> None:
    cli.main(
        prog="python -m intake_service",
        settings_factory=settings_factory,
        create_app=create_app,
        loops=worker.loops,
        migrate=migrate,
        commands=[OPERATOR_KEY, OPEN311_KEY, RETENTION],
        argv=argv,
    )
