"""A command started without the service's settings says in one line which one to check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.databases import postgres_admin_url


def run(*argv: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTAKE_", "ADAPTER_", "MAM_"))
    }
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("service", "command", "prefix"),
    [
        ("intake_service", "operator-key", "INTAKE_"),
        ("intake_service", "open311-key", "INTAKE_"),
        ("crm_adapter", "operator-key", "ADAPTER_"),
    ],
)
def test_a_data_folder_that_is_not_there(tmp_path, service, command, prefix):
    missing = tmp_path / "not-here"
    result = run(service, command, "list", cwd=tmp_path, MAM_DATA_DIR=str(missing))
    assert result.returncode == 1
    line = one_line(result)
    assert f"python -m {service}: cannot open the database" in line
    assert f"{prefix}DATABASE_URL" in line
    assert str(missing) in line
    assert "same settings as the running service" in line


def test_a_database_never_migrated_says_to_migrate(tmp_path):
    result = run(
        "intake_service",
        "operator-key",
        "create",
        "--name",
        "ops-jan",
        "--role",
        "read",
        cwd=tmp_path,
        MAM_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 1
    assert result.stdout == ""  # no key was printed
    assert "run `python -m intake_service migrate`" in one_line(result)


# Only where a PostgreSQL server answers (none is collected and then skipped).
if postgres_admin_url() is not None:

    def test_a_postgresql_database_that_does_not_exist_hides_the_password(tmp_path):
        admin = make_url(postgres_admin_url() or "")
        url = admin.set(
            database="mam_no_such_database", password=admin.password or "s3cret"
        ).render_as_string(hide_password=False)
        result = run(
            "crm_adapter",
            "operator-key",
            "list",
            cwd=tmp_path,
            ADAPTER_DATABASE_URL=url,
        )
        assert result.returncode == 1
        line = one_line(result)
        assert "mam_no_such_database does not exist" in line
        assert "ADAPTER_DATABASE_URL" in line
        assert "MAM_DATA_DIR" not in line
        assert str(make_url(url).password) not in line


def test_a_setting_that_is_not_valid_is_named(tmp_path):
    result = run(
        "intake_service", "operator-key", "list", cwd=tmp_path, INTAKE_PORT="eighty"
    )
    assert result.returncode == 2
    assert "the setting INTAKE_PORT is not valid" in one_line(result)


def test_after_migrate_the_same_command_works(tmp_path):
    assert run("intake_service", "migrate", cwd=tmp_path).returncode == 0
    made = run(
        "intake_service",
        "operator-key",
        "create",
        "--name",
        "ops-jan",
        "--role",
        "read",
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("mam_")
