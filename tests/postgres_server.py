"""A PostgreSQL server of a test's own, made with `initdb` and run with `pg_ctl` on its own
port and folder: it can crash and restart without disturbing the server other tests use.

The binaries are found on PATH, else in `pg_config --bindir` (Debian keeps them there), else
in `TEST_POSTGRES_BINDIR`. PostgreSQL refuses to run as root: under root the commands run as
the `postgres` user, on a folder that user owns.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from devtools.stack import free_ports


def _bindir() -> Path:
    if configured := os.environ.get("TEST_POSTGRES_BINDIR"):
        return Path(configured)
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        )
        return Path(found.stdout.strip())
    raise RuntimeError(
        "initdb not found: install PostgreSQL's server package, or set TEST_POSTGRES_BINDIR"
    )


class OwnPostgres:
    """One server: `start`, `crash` (as a killed server: no shutdown checkpoint, recovery
    from the write-ahead log at the next start), `stop`."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.data = folder / "data"
        self.log = folder / "postgresql.log"
        self._bin = _bindir()
        self._as_postgres = os.geteuid() == 0

    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self._bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            log = (
                self.log.read_text(errors="replace")[-2000:]
                if self.log.exists()
                else ""
            )
            raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{done.stderr}\n{log}")

    def init(self) -> None:
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl", "start", "--wait", "-D", str(self.data), "-l", str(self.log),
            "-o", options,
        )  # fmt: skip

    def crash(self) -> None:
        self._run("pg_ctl", "stop", "--wait", "-D", str(self.data), "-m", "immediate")

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "--wait", "-D", str(self.data), "-m", "fast")


@contextlib.contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A fresh server on a free port, stopped and removed afterwards."""
    # Not under pytest's folder for this run: it is readable by its owner only.
    folder = Path(tempfile.mkdtemp(prefix="mam-postgres-"))
    [port] = free_ports(1)
    server = OwnPostgres(folder, port)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(RuntimeError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
