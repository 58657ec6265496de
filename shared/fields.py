"""Members of a request body that may be left out but are never null."""

from __future__ import annotations

from typing import Any

from pydantic import Field


def omittable(**kwargs: Any) -> Any:
    """A member that may be left out (it is then None) but not sent as null: `null` is
    refused as a value of the wrong type, and the schema lists the type alone, so that a
    generated client cannot send a null that would be silently ignored.

    `name: str = omittable(description=...)`; the code reads None as "left out".
    """
    # A factory, not `default=None`: the schema then has no `default: null` (which a
    # generator would read as "nullable") and the member's own annotations keep theirs.
    return Field(default_factory=_nothing, **kwargs)


def _nothing() -> None:
    return None
