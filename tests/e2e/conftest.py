"""The real processes (intake, adapter, CRM simulator) on free loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devtools.stack import (
    Ports,
    health_paths,
    migrate_commands,
    serve_commands,
    stack_env,
)
from shared.settings import DEV_SECRETS
from tests.conftest import new_databases
from tests.databases import Databases

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    intake: str
    adapter: str
    crm: str
    databases: Databases

    def crm_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.crm,
            headers={"Authorization": f"Bearer {DEV_SECRETS['crm_api_key']}"},
        )

    def intake_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.intake)


def _wait_healthy(
    name: str, url: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(
        f"{name} not healthy within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp(f"e2e-{backend}")
    ports = Ports(intake=free_port(), adapter=free_port(), crm=free_port())
    for databases in new_databases(backend, folder / "db", "e2e"):
        env = stack_env(
            ports,
            {
                **{
                    k: v
                    for k, v in os.environ.items()
                    if not k.startswith(("INTAKE_", "ADAPTER_", "CRM_SIM_"))
                },
                "MAM_DATA_DIR": str(folder / "data"),
                "INTAKE_DATABASE_URL": databases.intake,
                "ADAPTER_DATABASE_URL": databases.adapter,
            },
        )
        for command in migrate_commands():
            subprocess.run(command, env=env, check=True, capture_output=True)
        processes: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        try:
            for name, command in serve_commands().items():
                log = folder / f"{name}.log"
                with log.open("wb") as out:
                    processes[name] = (
                        subprocess.Popen(
                            command, env=env, stdout=out, stderr=subprocess.STDOUT
                        ),
                        log,
                    )
            port_of = {
                "intake": ports.intake,
                "adapter": ports.adapter,
                "crm-simulator": ports.crm,
            }
            for name, path in health_paths().items():
                process, log = processes[name]
                _wait_healthy(
                    name, f"http://127.0.0.1:{port_of[name]}{path}", process, log
                )
            yield Stack(
                intake=f"http://127.0.0.1:{ports.intake}",
                adapter=f"http://127.0.0.1:{ports.adapter}",
                crm=f"http://127.0.0.1:{ports.crm}",
                databases=databases,
            )
        finally:
            for process, _ in processes.values():
                process.terminate()
            for process, _ in processes.values():
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
