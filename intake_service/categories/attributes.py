"""Category attributes (e.g. the lamp-post number): declarations and checking values (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.errors import ValidationFailed
from shared.i18n import N_

AttributeValue = str | int | float | bool

_MESSAGES: Mapping[str, str] = {
    "unknown": N_("This category has no such attribute."),
    "missing": N_("This field is required in this category."),
    "string": N_("Text expected."),
    "integer": N_("A whole number expected."),
    "number": N_("A number expected."),
    "boolean": N_("true or false expected."),
    "choice": N_("Choose one of the allowed values (GET /v1/categories)."),
    "too_long": N_("Text too long."),
}


def _type_error(datatype: str, value: AttributeValue) -> str | None:
    """Which message applies when `value` is not of `datatype` (JSON types, no coercion)."""
    ok = {
        "string": isinstance(value, str),
        "choice": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
    }[datatype]
    return None if ok else ("string" if datatype == "choice" else datatype)


def check_attributes(
    declared: Sequence[Mapping[str, Any]], values: Mapping[str, AttributeValue]
) -> dict[str, AttributeValue]:
    """The values, checked against the category's declarations; raises with every problem."""
    by_code = {spec["code"]: spec for spec in declared}
    problems: list[dict[str, Any]] = []

    def problem(code: str, kind: str) -> None:
        problems.append(
            {
                "field": f"attributes.{code}",
                "in": "body",
                "code": kind,
                "message": _MESSAGES[kind],
            }
        )

    for code in values.keys() - by_code.keys():
        problem(code, "unknown")
    for code, spec in by_code.items():
        if code not in values:
            if spec.get("required"):
                problem(code, "missing")
            continue
        value = values[code]
        if (kind := _type_error(spec["datatype"], value)) is not None:
            problem(code, kind)
        elif spec["datatype"] == "choice" and value not in {
            c["code"] for c in spec["choices"]
        }:
            problem(code, "choice")
        elif isinstance(value, str) and len(value) > spec.get("max_length", 500):
            problem(code, "too_long")
    if problems:
        raise ValidationFailed(errors=sorted(problems, key=lambda p: p["field"]))
    return {code: values[code] for code in by_code if code in values}
