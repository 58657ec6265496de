"""The three processes of a local MAM (intake, adapter, CRM simulator) and how they find each other.

`make run`, the end-to-end tests and the benchmarks start exactly these commands.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
from dotenv import dotenv_values


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports: all sockets stay open until each has its own port."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


PORT_SETTINGS = ("INTAKE_PORT", "ADAPTER_PORT", "CRM_SIM_PORT")
"""The port settings of intake, the adapter and the CRM simulator, in that order."""


def chosen_ports(
    names: Sequence[str], environ: Mapping[str, str], dotenv: Path | None = None
) -> list[int]:
    """The port each setting of `names` gives (in the environment, else in `dotenv`), or a
    free loopback port where none does. A port given but taken is refused, naming it."""
    given = (
        dict(dotenv_values(dotenv)) if dotenv is not None and dotenv.exists() else {}
    )
    given |= {name: environ[name] for name in names if name in environ}
    free = iter(free_ports(len(names)))
    ports = []
    for name in names:
        value = given.get(name)
        if not value:
            ports.append(next(free))
            continue
        try:
            port = int(value)
        except ValueError:
            raise SystemExit(f"{name}={value!r} is not a port number") from None
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise SystemExit(
                    f"{name}={port} is in use: stop what listens there, or unset "
                    f"{name} for a free port"
                ) from None
        ports.append(port)
    return ports


def wait_until_up(
    url: str,
    process: subprocess.Popen[bytes],
    *,
    log_tail: Callable[[], str],
    seconds: float = 60.0,
) -> None:
    """Until `url` answers 200; RuntimeError with the end of the process's log when it exits
    first or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited at start-up\n{log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {seconds} s\n{log_tail()}")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen[bytes], *, seconds: float = 10.0) -> None:
    """SIGTERM, and SIGKILL if it has not ended within `seconds`."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Ports:
    intake: int = 8000
    adapter: int = 8001
    crm: int = 8002

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        return cls(
            intake=int(env.get("INTAKE_PORT", 8000)),
            adapter=int(env.get("ADAPTER_PORT", 8001)),
            crm=int(env.get("CRM_SIM_PORT", 8002)),
        )


def stack_env(
    ports: Ports, env: Mapping[str, str], host: str = "127.0.0.1"
) -> dict[str, str]:
    """`env` plus the ports and the URLs by which the three find each other (unless set)."""
    result = dict(env)
    wiring = {
        "INTAKE_PORT": str(ports.intake),
        "ADAPTER_PORT": str(ports.adapter),
        "CRM_SIM_PORT": str(ports.crm),
        "INTAKE_ADAPTER_URL": f"http://{host}:{ports.adapter}",
        "ADAPTER_INTAKE_URL": f"http://{host}:{ports.intake}",
        "ADAPTER_CRM_URL": f"http://{host}:{ports.crm}",
        "ADAPTER_OPEN311_URL": f"http://{host}:{ports.crm}/open311/v2",
        "ADAPTER_INTAKE_PUBLIC_URL": f"http://{host}:{ports.intake}",
        "CRM_SIM_WEBHOOK_URL": f"http://{host}:{ports.adapter}/webhooks/crm",
    }
    for name, value in wiring.items():
        result.setdefault(name, value)
    return result


def migrate_commands() -> dict[str, list[str]]:
    """Each service's migration (they have a database each, so they run side by side)."""
    return {
        "intake": [sys.executable, "-m", "intake_service", "migrate"],
        "adapter": [sys.executable, "-m", "crm_adapter", "migrate"],
    }


def serve_commands() -> dict[str, list[str]]:
    return {
        "crm-simulator": [sys.executable, "-m", "devtools.crm_simulator"],
        "adapter": [sys.executable, "-m", "crm_adapter", "api"],
        "intake": [sys.executable, "-m", "intake_service", "api"],
    }


def worker_commands() -> dict[str, list[str]]:
    """Separate worker processes, for API processes started with `*_RUN_WORKER=false`."""
    return {
        "intake-worker": [sys.executable, "-m", "intake_service", "worker"],
        "adapter-worker": [sys.executable, "-m", "crm_adapter", "worker"],
    }


HEALTH_PATHS = {
    "crm-simulator": "/openapi.json",
    "adapter": "/healthz",
    "intake": "/healthz",
}


class LocalStack:
    """Migrates, starts and stops the three processes; logs go to `log_dir` or the terminal."""

    def __init__(
        self,
        ports: Ports,
        env: Mapping[str, str],
        log_dir: Path | None = None,
        *,
        separate_workers: bool = False,
    ) -> None:
        self.ports = ports
        self.env = stack_env(ports, env)
        self.commands = serve_commands()
        if separate_workers:
            self.env |= {"INTAKE_RUN_WORKER": "false", "ADAPTER_RUN_WORKER": "false"}
            self.commands |= worker_commands()
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def url(self, name: str) -> str:
        port = {
            "intake": self.ports.intake,
            "adapter": self.ports.adapter,
            "crm-simulator": self.ports.crm,
        }
        return f"http://127.0.0.1:{port[name]}"

    def _output(self, name: str) -> IO[bytes] | None:
        if self.log_dir is None:
            return None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        self._logs.append(log)
        return log

    def log_tail(self, name: str) -> str:
        if self.log_dir is None:
            return ""
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]

    def start(self, *, wait_seconds: float = 60.0, migrate: bool = True) -> None:
        """Migrate (unless the databases are known to be up to date), then start."""
        # The simulator needs no database: it starts while the two services migrate.
        first = [name for name in self.commands if name == "crm-simulator"]
        for name in first:
            self._spawn(name, self.commands[name])
        migrations = {
            name: self._popen(command, self._output(f"migrate-{name}"))
            for name, command in migrate_commands().items()
            if migrate
        }
        for name, migration in migrations.items():
            if migration.wait() != 0:
                raise RuntimeError(
                    f"{name} migration failed\n{self.log_tail(f'migrate-{name}')}"
                )
        for name, command in self.commands.items():
            if name not in first:
                self._spawn(name, command)
        deadline = time.monotonic() + wait_seconds
        for name in HEALTH_PATHS:
            self._wait_up(name, max(deadline - time.monotonic(), 0.0))

    def kill(self, name: str) -> None:
        """SIGKILL the process, as a crash or the kernel's OOM killer would: nothing it
        was doing gets to finish."""
        process = self.processes[name]
        process.kill()
        process.wait()

    def restart(self, name: str, *, wait_seconds: float = 60.0) -> None:
        """Start the process again (after `kill`, or after it ended), its output added to
        its log, and wait until it answers."""
        if self.processes[name].poll() is None:
            raise RuntimeError(f"{name} is still running")
        self._spawn(name, self.commands[name])
        if name in HEALTH_PATHS:
            self._wait_up(name, wait_seconds)

    def _wait_up(self, name: str, seconds: float) -> None:
        wait_until_up(
            self.url(name) + HEALTH_PATHS[name],
            self.processes[name],
            log_tail=lambda: self.log_tail(name),
            seconds=seconds,
        )

    def _popen(
        self, command: list[str], output: IO[bytes] | None
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )

    def _spawn(self, name: str, command: list[str]) -> None:
        self.processes[name] = self._popen(command, self._output(name))

    def exited(self) -> str | None:
        """The name of a process that has ended, if any."""
        return next(
            (n for n, p in self.processes.items() if p.poll() is not None), None
        )

    def stop(self, *, grace: float = 0.0) -> None:
        """Wait `grace` seconds for the processes to end by themselves, then SIGTERM, then kill."""
        self._wait(grace)
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        self._wait(10.0)
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0.01))


@contextlib.contextmanager
def running(
    ports: Ports,
    env: Mapping[str, str],
    log_dir: Path | None = None,
    *,
    separate_workers: bool = False,
    migrate: bool = True,
) -> Iterator[LocalStack]:
    stack = LocalStack(ports, env, log_dir, separate_workers=separate_workers)
    try:
        stack.start(migrate=migrate)
        yield stack
    finally:
        stack.stop()
