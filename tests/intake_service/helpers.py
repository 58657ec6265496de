"""Helpers of intake's tests."""

from __future__ import annotations

import json


def multipart(report: dict | bytes | None, *photos: tuple[str, bytes, str]) -> list:
    """httpx `files=`: the report's JSON as a plain field, then the photos as files."""
    parts: list = []
    if report is not None:
        text = report if isinstance(report, bytes) else json.dumps(report).encode()
        parts.append(("report", (None, text, "application/json")))
    parts += [("photos", photo) for photo in photos]
    return parts
