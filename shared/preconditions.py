"""Conditional writes (RFC 9110 §13): an operator's change names the revision it was made on.

A resource's ETag is its revision number, quoted. A write sends the ETag it read as
`If-Match`; the service compares it (strong comparison) with the revision it holds locked,
so of two operators changing the same thing one wins and the other is told to read again.
"""

from __future__ import annotations

from typing import Any


def etag(revision: int) -> str:
    """The ETag of a revision: its number, quoted."""
    return f'"{revision}"'


def matches(if_match: str, revision: int | None) -> bool:
    """Whether `If-Match` names `revision` (or is `*` and the resource exists)."""
    if revision is None:
        return False
    tags = [tag.strip() for tag in if_match.split(",")]
    return "*" in tags or etag(revision) in tags


def etag_header(description: str) -> dict[str, Any]:
    """The OpenAPI description of a 200 answer's `ETag` header."""
    return {"ETag": {"description": description, "schema": {"type": "string"}}}


IF_MATCH_PARAMETER: dict[str, Any] = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The `ETag` of what the change was made on.",
    "schema": {"type": "string"},
}
"""`If-Match` as a required parameter, documented: the route reads the header itself, so
that its absence is a 428 rather than FastAPI's 422 for a missing required header."""
