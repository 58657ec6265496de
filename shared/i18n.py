"""The three languages residents see, and choosing one from a request."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES: tuple[str, ...] = ("pl", "en", "de")
DEFAULT_LANGUAGE = "pl"

Localized = Mapping[str, str]
"""A text in every language of `LANGUAGES`, keyed by language code."""


def negotiate(accept_language: str | None, explicit: str | None = None) -> str:
    """The best supported language: an explicit choice first, then `Accept-Language` by q-value."""
    if explicit:
        lang = explicit.strip().lower()[:2]
        if lang in LANGUAGES:
            return lang
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGUAGES and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def pick(text: Localized, lang: str) -> str:
    """The text in `lang`, falling back to the default language."""
    return text.get(lang) or text[DEFAULT_LANGUAGE]


def missing_languages(text: Localized) -> set[str]:
    return {lang for lang in LANGUAGES if not text.get(lang)}
