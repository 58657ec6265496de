"""String types that every database accepts: PostgreSQL refuses NUL characters in text."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from shared.i18n import N_


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(N_("The text must not contain NUL characters."))
    return value


NO_NUL = AfterValidator(_no_nul)
"""Put after any `StringConstraints` (a validator before them stops their stripping)."""

Text = Annotated[str, NO_NUL]
"""A `str` without NUL characters; limit its length with `Field(max_length=...)`."""

# What `strip_whitespace` removes (Unicode's White_Space), spelled out: `\s` differs from
# it in ECMA-262, which JSON Schema patterns are (no U+0085), and in Python (U+001C-U+001F).
_STRIPPED = r"\t-\r\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

NOT_BLANK = Field(json_schema_extra={"pattern": f"[^{_STRIPPED}]"})
"""Documents what `strip_whitespace` with `min_length=1` checks: more than whitespace. Put
it after them; it only tells the JSON Schema (the error stays the length's)."""
