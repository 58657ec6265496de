"""Names operators give in every language residents are answered in (pl, en, de)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from shared.text import NO_NUL, NOT_BLANK

Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    NO_NUL,
    NOT_BLANK,
]
"""A name: at most 200 characters, more than whitespace."""


class NamesWrite(BaseModel):
    """A name in each language residents are answered in."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"pl": "Dziura w jezdni", "en": "Pothole", "de": "Schlagloch"}]
        },
    )

    pl: Label
    en: Label
    de: Label
