"""Intake's API process alone, started as deployed with settings of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.stack import free_ports, stop_process, wait_until_up
from tests.databases import Databases
from tests.helpers import CHEAP_PASSWORD_HASHING

Start = Callable[..., str]
"""Starts `python -m intake_service api` with these environment variables; its base URL."""


@pytest.fixture
def start_intake(clean_intake: Databases, tmp_path: Path) -> Iterator[Start]:
    processes: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "intake.log"

    def start(**settings: str) -> str:
        [port] = free_ports(1)
        own = ("INTAKE_", "ADAPTER_", "MAM_", "FORWARDED_ALLOW_IPS")
        env = {k: v for k, v in os.environ.items() if not k.startswith(own)} | {
            "MAM_DATA_DIR": str(tmp_path / "data"),
            "INTAKE_DATABASE_URL": clean_intake.intake,
            "INTAKE_RUN_WORKER": "false",
            **CHEAP_PASSWORD_HASHING,
            **settings,
        }
        with log.open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "intake_service", "api", "--port", str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(
            url + "/healthz",
            process,
            log_tail=lambda: log.read_text(errors="replace")[-3000:],
        )
        return url

    yield start
    for process in processes:
        stop_process(process)
