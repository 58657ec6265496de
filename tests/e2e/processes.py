"""Intake's API process alone, started as deployed with settings of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from devtools.stack import free_ports
from tests.databases import Databases

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
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"intake did not start\n{log.read_text()[-3000:]}")
            time.sleep(0.1)

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
