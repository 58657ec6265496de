"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is used when `TEST_DATABASE_URL` is set or a server answers on 127.0.0.1:5432.
Without one only the SQLite variants are collected (the header says so), unless
`REQUIRE_POSTGRES=1` (as in CI) makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import crm_adapter.models
import intake_service.models
from crm_adapter.app import create_app as create_adapter
from crm_adapter.config import Settings as AdapterSettings
from crm_adapter.crm.mapping import seed_status_mappings
from crm_adapter.db import Base as AdapterBase
from crm_adapter.migrations import migrate as migrate_adapter
from crm_adapter.routing.service import seed_defaults as seed_routing
from devtools.crm_simulator.app import create_app as create_simulator
from devtools.crm_simulator.config import Settings as SimulatorSettings
from intake_service.app import create_app as create_intake
from intake_service.categories.service import forget_copies
from intake_service.categories.service import seed_defaults as seed_categories
from intake_service.config import Settings as IntakeSettings
from intake_service.db import Base as IntakeBase
from intake_service.migrations import migrate as migrate_intake
from shared.clock import SetClock
from shared.clock import use as use_clock
from shared.db import make_engine, make_sessionmaker
from shared.settings import DEV_SECRETS
from tests.databases import (
    Databases,
    PerBackend,
    new_databases,
    postgres_admin_url,
    postgres_required,
)
from tests.helpers import (
    CHEAP_PASSWORD_HASHING,
    MONDAY_MORNING,
    OPEN311_KEYS,
    OPERATOR_KEYS,
    serve,
)
from tests.reset import Resets

assert intake_service.models
assert crm_adapter.models

# PostgreSQL tests exist only where a server answers: none are collected and then skipped.
POSTGRES_AVAILABLE = postgres_admin_url() is not None
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_AVAILABLE else ["sqlite"]


# Argon2id at its lowest cost in the tests' services, in process and started (they read
# it from the environment): the same hashing and verifying, without ~0.2 s of CPU per
# password. The costs themselves are tried with settings of their own.
os.environ.update(CHEAP_PASSWORD_HASHING)


@pytest.fixture
def production_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The password hashing costs as production reads them: the settings' defaults."""
    for name in CHEAP_PASSWORD_HASHING:
        monkeypatch.delenv(name)


@pytest.fixture
def clock() -> Iterator[SetClock]:
    """The in-process services' clock, set to `MONDAY_MORNING`; a test sets or advances it."""
    with use_clock(SetClock(MONDAY_MORNING)) as set_clock:
        assert isinstance(set_clock, SetClock)
        yield set_clock


def pytest_sessionstart(session: pytest.Session) -> None:
    if postgres_required() and not POSTGRES_AVAILABLE:
        raise pytest.UsageError(
            "REQUIRE_POSTGRES=1 but no PostgreSQL: set TEST_DATABASE_URL or start one on 127.0.0.1:5432"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The end-to-end modules first. They run longest, and begun first they leave the short
    in-process modules to even out the workers at the end (`make test` keeps this order
    with `--no-loadscope-reorder`: xdist's own puts the modules with the most tests first,
    so a module of two long tests came last and one worker finished it alone)."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


def pytest_report_header() -> str:
    if POSTGRES_AVAILABLE:
        return "databases: SQLite and PostgreSQL"
    return (
        "databases: SQLite only (no PostgreSQL answers; set TEST_DATABASE_URL, "
        "or REQUIRE_POSTGRES=1 to insist)"
    )


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_templates(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PerBackend[Databases]]:
    """Both services' databases on each backend, migrated and seeded as `migrate` does,
    once per session; never connected to again, they are copied for the tests."""

    @contextmanager
    def make(backend: str) -> Iterator[Databases]:
        folder = tmp_path_factory.mktemp(f"template-{backend}")
        for databases in new_databases(backend, folder, "template"):
            data_dir = folder / "data"
            asyncio.run(
                migrate_intake(
                    IntakeSettings(database_url=databases.intake, data_dir=data_dir)
                )
            )
            asyncio.run(
                migrate_adapter(
                    AdapterSettings(database_url=databases.adapter, data_dir=data_dir)
                )
            )
            yield databases

    with PerBackend(make) as per_backend:
        yield per_backend


@pytest.fixture(scope="session")
def migrated_databases(
    tmp_path_factory: pytest.TempPathFactory,
    database_templates: PerBackend[Databases],
) -> Iterator[PerBackend[Databases]]:
    """The in-process tests' databases on each backend, one pair per session."""

    @contextmanager
    def make(backend: str) -> Iterator[Databases]:
        folder = tmp_path_factory.mktemp(f"db-{backend}")
        yield from new_databases(backend, folder, "api", database_templates(backend))

    with PerBackend(make) as per_backend:
        yield per_backend


@pytest.fixture
def databases(backend: str, migrated_databases: PerBackend[Databases]) -> Databases:
    """The session's databases of the test's backend (tests leave them as they want; the
    `clean_*` fixtures empty them first)."""
    return migrated_databases(backend)


# The adapter's routing table and status mappings change in tests (new versions, operators'
# mappings): they are restored to the defaults instead.
ADAPTER_REFERENCE: set[str] = set()


async def _seed_adapter(session: AsyncSession) -> None:
    await seed_routing(session)
    await seed_status_mappings(session)


@pytest.fixture(scope="session")
def resets() -> Iterator[Resets]:
    with Resets() as resets:
        yield resets


@pytest.fixture
def clean_intake(databases: Databases, resets: Resets) -> Databases:
    """The session's intake database, emptied and seeded with the default categories (which
    operators change in tests); this process reads them again."""
    resets.reset(databases.intake, IntakeBase.metadata, set(), seed_categories)
    forget_copies()
    return databases


@pytest.fixture
def clean_adapter(databases: Databases, resets: Resets) -> Databases:
    """The session's adapter database, emptied and seeded with the default routing and
    status mappings."""
    resets.reset(
        databases.adapter, AdapterBase.metadata, ADAPTER_REFERENCE, _seed_adapter
    )
    return databases


@pytest.fixture
def clean_databases(clean_intake: Databases, clean_adapter: Databases) -> Databases:
    """Both databases, cleaned (for tests that use the two services)."""
    return clean_intake


UNLIMITED_WRITES = {
    "throttle_reports_per_client": 1_000_000,
    "throttle_reports_per_account": 1_000_000,
    "throttle_photos_per_client": 1_000_000,
    "throttle_writes_per_client": 1_000_000,
    "throttle_writes_per_account": 1_000_000,
}


@pytest.fixture
def intake_settings(clean_intake: Databases, tmp_path: Path) -> IntakeSettings:
    return IntakeSettings(
        environment="test",
        database_url=clean_intake.intake,
        data_dir=tmp_path,
        run_worker=False,
        operator_keys=OPERATOR_KEYS,
        open311_api_keys=OPEN311_KEYS,
        # Tests set their scene with hundreds of reports from one address; the limits
        # on residents' writes are tried with their own settings (test_write_limits).
    ).model_copy(update=UNLIMITED_WRITES)


@pytest.fixture
def adapter_settings(clean_adapter: Databases, tmp_path: Path) -> AdapterSettings:
    return AdapterSettings(
        environment="test",
        database_url=clean_adapter.adapter,
        data_dir=tmp_path,
        run_worker=False,
        operator_keys=OPERATOR_KEYS,
    )


@pytest.fixture
def intake_app(intake_settings: IntakeSettings) -> FastAPI:
    return create_intake(intake_settings)


@pytest.fixture
async def intake(intake_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of a running intake app (lifespan started, no background loops)."""
    async for client in serve(intake_app):
        yield client


@pytest.fixture
def adapter_app(adapter_settings: AdapterSettings) -> FastAPI:
    return create_adapter(adapter_settings)


@pytest.fixture
async def adapter(adapter_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for client in serve(adapter_app):
        yield client


@pytest.fixture
async def intake_session(
    intake_settings: IntakeSettings,
) -> AsyncIterator[AsyncSession]:
    """A read-only session on intake's database, to check what the API stored."""
    engine = make_engine(intake_settings.database_url, read_only=True)
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


@pytest.fixture
async def adapter_session(
    adapter_settings: AdapterSettings,
) -> AsyncIterator[AsyncSession]:
    engine = make_engine(adapter_settings.database_url, read_only=True)
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


@pytest.fixture
def crm_simulator_app() -> FastAPI:
    return create_simulator(SimulatorSettings())


@pytest.fixture
async def crm_simulator(crm_simulator_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The CRM simulator, in process (its webhooks go nowhere here)."""
    async for client in serve(crm_simulator_app):
        client.headers["Authorization"] = f"Bearer {DEV_SECRETS['crm_api_key']}"
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Figures a test records (`record_property`), after the results."""
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", []):
            terminalreporter.write_line(f"{report.nodeid}: {name}: {value}")
