"""What every figure needs: the machine, fresh databases, the processes, wrk, memory readings."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from devtools.stack import (
    PORT_SETTINGS,
    LocalStack,
    Ports,
    chosen_ports,
    free_ports,
    stop_process,
    wait_until_up,
)

BENCH_DIR = Path(__file__).parent
DOTENV = Path(".env")
"""The settings file the services read from the folder they are started in (`make bench`
starts them in the repository's)."""
RESULTS_DIR = BENCH_DIR / "results"
POSTGRES_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Figure:
    """One row of the table: what was measured, against what, and whether it meets its bar."""

    name: str
    what: str
    value: float | None
    unit: str
    bar: str
    baseline: float | None = None
    ratio: float | None = None
    passed: bool | None = None  # None: no bar applies (a --quick run)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    quick: bool
    database: str  # "postgresql" or "sqlite"
    work_dir: Path


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn workers), in MiB."""
    total = 0
    for each in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            for child in map(int, text):
                found += [child, *_children(child)]
    return found


# Databases ------------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


async def fresh_postgres(label: str) -> str:
    """A new, empty database on the benchmark's PostgreSQL; its SQLAlchemy URL."""
    name = f"mam_bench_{label}_{uuid.uuid4().hex[:6]}"
    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return (
        make_url(POSTGRES_ADMIN)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )


async def drop_postgres(url: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN))
    try:
        name = make_url(url).database
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@dataclass(frozen=True)
class Databases:
    intake: str
    adapter: str
    baseline: str  # asyncpg DSN or sqlite:///file


@contextlib.asynccontextmanager
async def databases(options: Options, label: str) -> Any:
    """Fresh databases for one figure: the two services' and the baseline's."""
    if options.database == "sqlite":
        folder = options.work_dir / f"db-{label}-{uuid.uuid4().hex[:6]}"
        folder.mkdir(parents=True)
        yield Databases(
            intake=f"sqlite+aiosqlite:///{folder / 'intake.db'}",
            adapter=f"sqlite+aiosqlite:///{folder / 'adapter.db'}",
            baseline=f"sqlite:///{folder / 'baseline.db'}",
        )
        return
    urls = [
        await fresh_postgres(f"{label}_{svc}") for svc in ("intake", "adapter", "base")
    ]
    try:
        yield Databases(intake=urls[0], adapter=urls[1], baseline=_asyncpg_dsn(urls[2]))
    finally:
        for url in urls:
            await drop_postgres(url)


# Processes ------------------------------------------------------------------------------


def quiet_env(work_dir: Path) -> dict[str, str]:
    """The environment the services run in: no stray MAM settings, warnings only."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MAM_", "CRM_SIM_", "INTAKE_", "ADAPTER_"))
    }
    data = work_dir / f"data-{uuid.uuid4().hex[:6]}"
    data.mkdir(parents=True)
    env |= {
        "MAM_DATA_DIR": str(data),
        "INTAKE_LOG_LEVEL": "WARNING",
        "ADAPTER_LOG_LEVEL": "WARNING",
        "CRM_SIM_LOG_LEVEL": "WARNING",
    }
    # Intake sits behind a reverse proxy on this host, as deployed: the scripts send each
    # request from a resident's address (bench/lua/residents.lua), so the limits and turns
    # per address count many residents. Their limits are counted as always, but set where
    # a whole city's reports fit (one account files all of B4's named reports).
    env["INTAKE_TRUSTED_PROXIES"] = "127.0.0.1"
    env |= {
        f"INTAKE_THROTTLE_{name}": "1000000000"
        for name in (
            "REPORTS_PER_CLIENT",
            "REPORTS_PER_ACCOUNT",
            "PHOTOS_PER_CLIENT",
            "WRITES_PER_CLIENT",
            "WRITES_PER_ACCOUNT",
        )
    }
    return env


@contextlib.contextmanager
def stack(
    dbs: Databases,
    work_dir: Path,
    *,
    env: Mapping[str, str] = {},
    separate_workers: bool = False,
) -> Iterator[LocalStack]:
    """Intake, adapter and the CRM simulator on `dbs`, on the ports their settings give
    (`INTAKE_PORT`, `ADAPTER_PORT`, `CRM_SIM_PORT`), else on free ports."""
    intake, adapter, crm = chosen_ports(PORT_SETTINGS, os.environ, DOTENV)
    environment = (
        quiet_env(work_dir)
        | {
            "INTAKE_DATABASE_URL": dbs.intake,
            "ADAPTER_DATABASE_URL": dbs.adapter,
        }
        | dict(env)
    )
    local = LocalStack(
        Ports(intake=intake, adapter=adapter, crm=crm),
        environment,
        log_dir=work_dir / f"logs-{uuid.uuid4().hex[:6]}",
        separate_workers=separate_workers,
    )
    try:
        local.start()
        yield local
    finally:
        local.stop()


@contextlib.contextmanager
def intake_alone(
    dbs: Databases, work_dir: Path, *, env: Mapping[str, str] = {}
) -> Iterator[tuple[str, int]]:
    """Intake's API process alone (its background loops in no process): its URL and pid.

    The front-door figures measure what it costs to accept a report; the outbox rows it
    writes stay pending, as they would while the adapter is away. `env` adds settings.
    Its port is `INTAKE_PORT`'s, else a free one.
    """
    (port,) = chosen_ports(["INTAKE_PORT"], os.environ, DOTENV)
    env = (
        quiet_env(work_dir)
        | {
            "INTAKE_DATABASE_URL": dbs.intake,
            "INTAKE_RUN_WORKER": "false",
            "INTAKE_PORT": str(port),
        }
        | dict(env)
    )
    migrate = subprocess.run(
        [sys.executable, "-m", "intake_service", "migrate"],
        env=env,
        capture_output=True,
    )
    if migrate.returncode != 0:
        raise RuntimeError(migrate.stdout.decode() + migrate.stderr.decode())
    with serving(
        [sys.executable, "-m", "intake_service", "api"],
        env,
        port,
        "/healthz",
        work_dir / "intake.log",
    ) as pid:
        yield f"http://127.0.0.1:{port}", pid


@contextlib.contextmanager
def baseline(dbs: Databases, work_dir: Path) -> Iterator[tuple[str, int]]:
    """The minimal endpoint (`bench.baseline`) on a free port: its URL and pid."""
    (port,) = free_ports(1)
    command = [
        sys.executable,
        "-m",
        "bench.baseline",
        "--port",
        str(port),
        "--database-url",
        dbs.baseline,
    ]
    with serving(
        command, dict(os.environ), port, "/openapi.json", work_dir / "baseline.log"
    ) as pid:
        yield f"http://127.0.0.1:{port}", pid


@contextlib.contextmanager
def serving(
    command: list[str], env: Mapping[str, str], port: int, health: str, log: Path
) -> Iterator[int]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_until_up(
                f"http://127.0.0.1:{port}{health}",
                process,
                log_tail=lambda: log.read_text(errors="replace")[-2000:],
            )
            yield process.pid
        finally:
            stop_process(process)


# Load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """What wrk measured: throughput and latency of one round."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors, timeouts and non-2xx/3xx answers

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def wrk(
    url: str,
    script: str,
    *,
    seconds: float,
    connections: int,
    env: Mapping[str, str] = {},
    timeout: float = 10.0,
) -> Load:
    """Run wrk (one thread, `connections` connections) with a script from `bench/lua`."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(int(seconds), 1)}s",
        f"--timeout={int(timeout)}s",
        "-s",
        str(BENCH_DIR / "lua" / script),
        url,
    ]
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    found = re.search(r"^WRK_RESULT (.*)$", done.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk said:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(found.group(1))
    errors = sum(
        raw[k]
        for k in (
            "connect_errors",
            "read_errors",
            "write_errors",
            "timeouts",
            "non_2xx",
        )
    )
    return Load(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        errors=errors,
    )


def write_results(figures: list[Figure], options: Options, started: float) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(started))
    path = (
        RESULTS_DIR
        / f"{stamp}-{options.database}{'-quick' if options.quick else ''}.json"
    )
    path.write_text(
        json.dumps(
            {
                "machine": machine(),
                "database": options.database,
                "quick": options.quick,
                "started": stamp,
                "seconds": round(time.time() - started, 1),
                "figures": [asdict(f) for f in figures],
            },
            indent=2,
        )
        + "\n"
    )
    return path


def table(figures: list[Figure]) -> str:
    def num(value: float | None) -> str:
        return (
            "—"
            if value is None
            else f"{value:,.2f}"
            if value < 100
            else f"{value:,.0f}"
        )

    rows = [("figure", "what", "value", "baseline", "ratio", "bar", "result")]
    for f in figures:
        result = "—" if f.passed is None else "pass" if f.passed else "FAIL"
        rows.append(
            (
                f.name,
                f.what,
                f"{num(f.value)} {f.unit}".strip(),
                num(f.baseline),
                "—" if f.ratio is None else f"{f.ratio:.3f}×",
                f.bar,
                result,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
