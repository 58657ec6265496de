"""The real processes (intake, adapter, CRM simulator) on free loopback ports."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from devtools.stack import LocalStack, Ports, free_ports, running
from shared.settings import DEV_SECRETS
from tests.conftest import UNLIMITED_WRITES
from tests.databases import Databases, PerBackend, new_databases
from tests.helpers import CHEAP_PASSWORD_HASHING, OPEN311_KEYS, OPERATOR_KEYS


@dataclass(frozen=True)
class Stack:
    intake: str
    adapter: str
    crm: str
    databases: Databases
    logs: Path
    """Each process's log file (`intake.log`, `adapter.log`, `crm-simulator.log`, ...)."""
    mail_dir: Path
    """Where intake's default folder mailer writes the mails (verification codes)."""
    processes: LocalStack
    """The processes themselves, to kill and restart one."""

    def crm_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.crm,
            headers={"Authorization": f"Bearer {DEV_SECRETS['crm_api_key']}"},
        )

    def intake_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.intake)


FAST_RETRIES = {
    # Retries in tenths of a second rather than seconds, so that faults pass in moments.
    "ADAPTER_RETRY_BASE_SECONDS": "0.05",
    "ADAPTER_RETRY_CAP_SECONDS": "0.5",
    "ADAPTER_POLL_SECONDS": "0.2",
    "ADAPTER_CRM_TIMEOUT_SECONDS": "5",
    "ADAPTER_BREAKER_OPEN_SECONDS": "0.5",
    "ADAPTER_BREAKER_MAX_OPEN_SECONDS": "2",
    "INTAKE_RETRY_BASE_SECONDS": "0.05",
    "INTAKE_RETRY_CAP_SECONDS": "0.5",
    "INTAKE_POLL_SECONDS": "0.2",
}


def start_stack(
    backend: str,
    folder: Path,
    *,
    separate_workers: bool,
    settings: Mapping[str, str] | None = None,
    databases: Databases | None = None,
    template: Databases | None = None,
) -> Iterator[Stack]:
    """The three processes on `databases` (migrated first, and left as they are after), or
    on fresh copies of `template` (the databases `migrate` makes, so it is not run again),
    or else on new databases, migrated as `make run` does; `settings` adds environment
    variables."""
    if databases is not None:
        yield from _stack_on(
            databases, folder, separate_workers, settings, migrate=True
        )
        return
    for fresh in new_databases(backend, folder / "db", "e2e", template):
        yield from _stack_on(
            fresh, folder, separate_workers, settings, migrate=template is None
        )


def _stack_on(
    databases: Databases,
    folder: Path,
    separate_workers: bool,
    settings: Mapping[str, str] | None,
    *,
    migrate: bool,
) -> Iterator[Stack]:
    intake, adapter, crm = free_ports(3)
    ports = Ports(intake=intake, adapter=adapter, crm=crm)
    own = ("INTAKE_", "ADAPTER_", "CRM_SIM_", "MAM_")
    operator_keys = json.dumps([key.model_dump() for key in OPERATOR_KEYS])
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith(own)}
        | {
            "MAM_DATA_DIR": str(folder / "data"),
            "INTAKE_DATABASE_URL": databases.intake,
            "ADAPTER_DATABASE_URL": databases.adapter,
            # The test operator keys (`tests.helpers.READ` / `MANAGE`) work on both services.
            "INTAKE_OPERATOR_KEYS": operator_keys,
            "ADAPTER_OPERATOR_KEYS": operator_keys,
            "INTAKE_OPEN311_API_KEYS": json.dumps(
                [key.model_dump() for key in OPEN311_KEYS]
            ),
        }
        # Every test's reports come from 127.0.0.1 to a stack the session shares; the
        # limits on residents' writes are tried with their own settings.
        | {
            f"INTAKE_{name.upper()}": str(value)
            for name, value in UNLIMITED_WRITES.items()
        }
        # Passwords hashed at the least cost, as in the tests' other services.
        | CHEAP_PASSWORD_HASHING
        | dict(settings or {})
    )
    with running(
        ports,
        env,
        log_dir=folder / "logs",
        separate_workers=separate_workers,
        migrate=migrate,
    ) as local:
        yield Stack(
            intake=local.url("intake"),
            adapter=local.url("adapter"),
            crm=local.url("crm-simulator"),
            databases=databases,
            logs=folder / "logs",
            mail_dir=folder / "data" / "mail",
            processes=local,
        )


@pytest.fixture(scope="session")
def shared_stacks(
    tmp_path_factory: pytest.TempPathFactory,
    database_templates: PerBackend[Databases],
) -> Iterator[PerBackend[Stack]]:
    """A stack per backend, started when a test first asks for it and kept to the end of
    the session, on copies of the migrated templates."""

    @contextmanager
    def make(backend: str) -> Iterator[Stack]:
        folder = tmp_path_factory.mktemp(f"e2e-{backend}")
        yield from start_stack(
            backend,
            folder,
            separate_workers=False,
            template=database_templates(backend),
        )

    with PerBackend(make) as per_backend:
        yield per_backend


@pytest.fixture
def stack(backend: str, shared_stacks: PerBackend[Stack]) -> Stack:
    """API processes running the background loops themselves (the embedded default),
    shared by the modules that leave the city's configuration (routing, status mappings,
    faults) as they found it: each test works with reports and accounts of its own."""
    return shared_stacks(backend)


class StackOfItsOwn(Protocol):
    def __call__(
        self,
        backend: str,
        name: str,
        *,
        settings: Mapping[str, str] | None = None,
        separate_workers: bool = False,
    ) -> Iterator[Stack]: ...


@pytest.fixture(scope="session")
def stack_of_its_own(
    tmp_path_factory: pytest.TempPathFactory,
    database_templates: PerBackend[Databases],
) -> StackOfItsOwn:
    """Starts a stack for one module (`yield from` it in a module fixture): on copies of
    the migrated templates, in a folder named after `name`, with `settings` added."""

    def start(
        backend: str,
        name: str,
        *,
        settings: Mapping[str, str] | None = None,
        separate_workers: bool = False,
    ) -> Iterator[Stack]:
        yield from start_stack(
            backend,
            tmp_path_factory.mktemp(f"e2e-{name}-{backend}"),
            separate_workers=separate_workers,
            settings=settings,
            template=database_templates(backend),
        )

    return start


@pytest.fixture(scope="module")
def own_stack(backend: str, stack_of_its_own: StackOfItsOwn) -> Iterator[Stack]:
    """A stack for one module, which changes the configuration (routing, mappings, ...)."""
    yield from stack_of_its_own(backend, "own")


@pytest.fixture(scope="module")
def stack_with_workers(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """As deployed: new databases migrated by the `migrate` commands, API processes
    without loops, and a `worker` process per service doing that work."""
    yield from start_stack(
        backend,
        tmp_path_factory.mktemp(f"e2e-workers-{backend}"),
        separate_workers=True,
    )
