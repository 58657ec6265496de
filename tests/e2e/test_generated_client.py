"""An app team's view: a Python client generated from the committed resident document
(`docs/api/intake-resident.json`, openapi-python-client) types an app strictly and drives
the README's resident flow against the real services: categories in German, an account,
its verification, signing in, a named report with a photo, and the notification of the
unit's change."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devtools.api_documents import FOLDER
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

APP = Path(__file__).with_name("client_app") / "resident_app.py"
BIN = Path(sys.executable).parent
CONFIG = """
# Photos are bytes to a client: read them as such.
content_type_overrides:
  image/jpeg: application/octet-stream
"""
MYPY = """
[mypy]
strict = True

# The generated package is the generator's code; the app's use of it is what is checked.
[mypy-mam_client.*]
ignore_errors = True
"""


def run(*command: str | Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the generated package `mam_client`."""
    folder = tmp_path_factory.mktemp("client")
    (folder / "config.yml").write_text(CONFIG)
    env = os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    output = run(
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        FOLDER / "intake-resident.json",
        "--meta",
        "none",
        "--config",
        folder / "config.yml",
        "--output-path",
        folder / "mam_client",
        env=env,
    )
    assert "Warning" not in output, output
    return folder


def test_the_generated_client_is_small_and_types_the_app_strictly(
    generated: Path, record_property
):
    models = list((generated / "mam_client" / "models").glob("*.py"))
    record_property("generated model files", len(models))
    # One Problem for every error, not a class per operation and status.
    assert (generated / "mam_client" / "models" / "problem.py").exists()
    assert not [m for m in models if "response_4" in m.name or "response_5" in m.name]
    (generated / "mypy.ini").write_text(MYPY)
    env = os.environ | {"MYPYPATH": str(generated)}
    cache = generated / "mypy-cache"
    run(
        BIN / "mypy",
        "--config-file",
        generated / "mypy.ini",
        "--cache-dir",
        cache,
        APP,
        env=env,
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_resident_app_on_the_generated_client_goes_round_trip(
    generated: Path, stack: Stack
):
    env = os.environ | {
        "PYTHONPATH": str(generated),
        "INTAKE_URL": stack.intake,
        "MAIL_DIR": str(stack.mail_dir),
        "EMAIL": f"client-{uuid.uuid4().hex[:10]}@example.org",
    }
    filed = json.loads(
        await asyncio.to_thread(run, sys.executable, APP, "file", env=env)
    )
    assert filed["category_name"] == "Schlagloch"
    assert filed["photos"] == 1
    assert filed["anonymous_report_id"] != filed["report_id"]

    async with stack.crm_client() as crm:

        async def case():
            found = await crm.get(
                "/api/cases", params={"external_ref": filed["report_id"]}
            )
            return found.json() or None

        [created] = await eventually(case, what="the report's CRM case")
        changed = await crm.post(
            f"/api/cases/{created['case_id']}/status",
            json={"status": "IN_PROGRESS", "note": "Ekipa w drodze"},
        )
        assert changed.status_code == 200, changed.text

    # The change reaches the resident within moments; the app reads it once it has.
    headers = {"Authorization": f"Bearer {filed['token']}"}
    async with stack.intake_client() as intake:

        async def told_of_it():
            page = await intake.get("/v1/me/notifications", headers=headers)
            return page.json()["items"] or None

        await eventually(told_of_it, what="the resident's notification")
    env["TOKEN"] = filed["token"]
    told = json.loads(
        await asyncio.to_thread(run, sys.executable, APP, "notifications", env=env)
    )
    assert told["unread_count"] >= 1
    assert "in_progress" in [item["status"] for item in told["items"]]
