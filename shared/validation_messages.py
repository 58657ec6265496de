"""Pydantic's validation errors, explained to residents in their language.

Pydantic's `msg` is English only, so the message is chosen by the error's `type` and filled
from its `ctx`. A `ValueError` raised by one of our validators carries a msgid marked with
`N_` and is translated; any other type keeps pydantic's English `msg`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.i18n import N_, translate

_MESSAGES: Mapping[str, str] = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not allowed."),
    "string_too_short": N_("The text is too short (minimum length: {min_length})."),
    "string_too_long": N_("The text is too long (maximum length: {max_length})."),
    "string_pattern_mismatch": N_("The text does not have the required format."),
    "too_short": N_("Too few items (minimum: {min_length})."),
    "too_long": N_("Too many items (maximum: {max_length})."),
    "greater_than_equal": N_("The value must be at least {ge}."),
    "less_than_equal": N_("The value must be at most {le}."),
    "greater_than": N_("The value must be greater than {gt}."),
    "less_than": N_("The value must be less than {lt}."),
    "finite_number": N_("The value must be a finite number."),
    "string_type": N_("Text expected."),
    "int_type": N_("A whole number expected."),
    "int_parsing": N_("A whole number expected."),
    "int_from_float": N_("A whole number expected."),
    "float_type": N_("A number expected."),
    "float_parsing": N_("A number expected."),
    "bool_type": N_("true or false expected."),
    "bool_parsing": N_("true or false expected."),
    "dict_type": N_("An object expected."),
    "model_type": N_("An object expected."),
    "model_attributes_type": N_("An object expected."),
    "list_type": N_("A list expected."),
    # TRANSLATORS: {expected} lists the allowed values, e.g. 'pl', 'en' or 'de'.
    "enum": N_("Allowed values: {expected}."),
    "literal_error": N_("Allowed values: {expected}."),
    "json_invalid": N_("The body is not valid JSON."),
    "uuid_parsing": N_("Not a valid UUID."),
    "uuid_type": N_("Not a valid UUID."),
    "datetime_parsing": N_("Not a valid date and time (ISO 8601)."),
    "datetime_from_date_parsing": N_("Not a valid date and time (ISO 8601)."),
    "datetime_type": N_("Not a valid date and time (ISO 8601)."),
    "timezone_aware": N_("Give the time with its offset, e.g. +01:00, or Z for UTC."),
    "url_parsing": N_("Not a valid URL."),
}

# `EmailStr` raises a `value_error` of its own, told apart by its English text.
_PYDANTIC_EMAIL_ERROR = "value is not a valid email address"
_EMAIL_MESSAGE = N_("Not a valid e-mail address.")


def validation_message(error: Mapping[str, Any], lang: str) -> str:
    """The message of one pydantic error (an item of `errors()`) in `lang`."""
    kind = error.get("type", "")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind in _MESSAGES:
        return translate(_MESSAGES[kind], lang, **ctx)
    msg = str(error.get("msg", ""))
    if kind == "value_error":
        if isinstance(ctx.get("error"), ValueError):
            # Our validators' messages are msgids; anyone else's is kept as it was raised.
            return translate(str(ctx["error"]), lang)
        if msg.startswith(_PYDANTIC_EMAIL_ERROR):
            return translate(_EMAIL_MESSAGE, lang)
    return msg
