"""Category attributes (e.g. the lamp-post number): declarations and checking values (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.errors import ValidationFailed
from shared.i18n import Localized

AttributeValue = str | int | float | bool

_MESSAGES: Mapping[str, Localized] = {
    "unknown": {
        "pl": "Ta kategoria nie ma takiego atrybutu.",
        "en": "This category has no such attribute.",
        "de": "Diese Kategorie hat kein solches Attribut.",
    },
    "missing": {
        "pl": "To pole jest wymagane w tej kategorii.",
        "en": "This field is required in this category.",
        "de": "Dieses Feld ist in dieser Kategorie erforderlich.",
    },
    "string": {
        "pl": "Oczekiwano tekstu.",
        "en": "Text expected.",
        "de": "Text erwartet.",
    },
    "integer": {
        "pl": "Oczekiwano liczby całkowitej.",
        "en": "A whole number expected.",
        "de": "Ganze Zahl erwartet.",
    },
    "number": {
        "pl": "Oczekiwano liczby.",
        "en": "A number expected.",
        "de": "Zahl erwartet.",
    },
    "boolean": {
        "pl": "Oczekiwano true albo false.",
        "en": "true or false expected.",
        "de": "true oder false erwartet.",
    },
    "choice": {
        "pl": "Wybierz jedną z dozwolonych wartości (GET /v1/categories).",
        "en": "Choose one of the allowed values (GET /v1/categories).",
        "de": "Wählen Sie einen der erlaubten Werte (GET /v1/categories).",
    },
    "too_long": {
        "pl": "Za długi tekst.",
        "en": "Text too long.",
        "de": "Text zu lang.",
    },
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
