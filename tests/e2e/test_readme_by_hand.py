"""The README's "A report by hand" runs as written, against the real processes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def by_hand_section() -> str:
    """The shell block under "### A report by hand"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### A report by hand", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert match is not None
    return match.group(1)


def host_of(url: str) -> str:
    return url.removeprefix("http://")


def test_the_by_hand_example_files_follows_and_reopens_a_report(stack: Stack):
    script = (
        by_hand_section()
        .replace("localhost:8000", host_of(stack.intake))
        .replace("localhost:8002", host_of(stack.crm))
        .replace("var/mail", str(stack.mail_dir))
    )
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # Each curl answers one JSON document (the verification answers none: a 204).
    answers = [
        json.loads(line)
        for line in re.sub(r"\}\s*\{", "}\n{", done.stdout).splitlines()
        if line.strip()
    ]
    account, *_, report, notifications, feedback, case, with_photos = answers
    assert account["lang"] == "de"
    assert report["status"] == "resolved"
    assert [change["status"] for change in report["status_history"]] == [
        "received",
        "submitted",
        "in_progress",
        "resolved",
    ]
    assert len(notifications["items"]) == 3
    assert feedback["fixed"] is False
    assert case["status"] == "REOPENED"
    assert case["history"][-1]["note"] == "Nadal jest"  # the reopen, with its comment
    bench, container = with_photos["photos"]
    # The bench was stored on its side (EXIF orientation 6): it is served upright.
    assert (bench["width"], bench["height"]) == (800, 600)
    assert (container["width"], container["height"]) == (640, 480)
    # No location was sent: the first photo's GPS gave it.
    assert round(with_photos["location"]["lat"], 3) == 51.11
    assert round(with_photos["location"]["lon"], 3) == 17.033
