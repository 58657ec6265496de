"""The docs pages render in a real browser with no network but the service's own: headless
Chromium, every host name but the loopback address unresolvable (no CDN reachable)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.e2e.conftest import Stack

pytestmark = [
    pytest.mark.e2e,
    # The pages and their scripts do not touch the database.
    pytest.mark.parametrize("backend", ["sqlite"], indirect=True),
]

CHROMIUM = shutil.which("chromium") or "chromium"


def rendered(url: str) -> str:
    """The page's DOM once its scripts have run, as headless Chromium leaves it."""
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("service", "operation"),
    [("intake", "/v1/reports"), ("adapter", "/admin/cases")],
)
def test_swagger_ui_renders_the_operations_offline(stack: Stack, service, operation):
    dom = rendered(f"{getattr(stack, service)}/docs")
    assert f'data-path="{operation}"' in dom


def test_redoc_renders_the_operations_offline(stack: Stack):
    dom = rendered(f"{stack.intake}/redoc")
    assert "File a report" in dom
