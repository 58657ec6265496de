"""The three languages residents see, choosing one from a request, and translating texts.

Texts in code are English msgids marked with `N_` (or, when they carry a number of things,
`Np_` with the singular and the plural) and translated when shown, with `translate`. The gettext catalogs (domain `mam`) live in `shared/locale`: `make
messages-extract messages-update` brings them up to date with the code and `make
messages-compile` (part of `make install`) compiles them. Translated data (category and
unit names) is not in the catalogs: it carries its own `Localized` texts.

Every choice of a language from a request goes through `negotiate`, which also notes it as
the language of the answer being made (`answering`): `shared.content_language` tells the
client so (`Content-Language`, `Vary: Accept-Language`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from io import BytesIO
from pathlib import Path
from typing import NamedTuple

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations


class Lang(StrEnum):
    """A language residents can be answered in: Polish, English or German."""

    PL = "pl"
    EN = "en"
    DE = "de"


LANGUAGES: tuple[str, ...] = tuple(Lang)
DEFAULT_LANGUAGE = "pl"

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "mam"

Localized = Mapping[str, str]
"""Translated data: a text in every language of `LANGUAGES`, keyed by language code."""


def N_(message: str) -> str:
    """Mark `message` for extraction (pybabel looks for `N_`); `translate` shows it."""
    return message


class Counted(NamedTuple):
    """A message that carries a number of things (`{count}`): its English singular and
    plural, translated in as many forms as the language has (Polish three: 1 znak, 2 znaki,
    5 znaków)."""

    singular: str
    plural: str


def Np_(singular: str, plural: str) -> Counted:  # a gettext marker
    """Mark a counted message for extraction (pybabel looks for `Np_`, as `ngettext`)."""
    return Counted(singular, plural)


Message = str | Counted
"""What `translate` shows: a msgid, or a counted message (given `count`)."""


def translate(message: Message, lang: str, /, **params: object) -> str:
    """`message` (an English msgid) in `lang`, with its `{placeholders}` filled from `params`.

    A `Counted` message takes the form `params["count"]` asks for. A message the catalogs
    do not know comes back as it is; without `params` it is not formatted, so braces in it
    stay.
    """
    catalog = _translations(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    if isinstance(message, Counted):
        count = params.get("count")
        if not isinstance(count, int):
            raise TypeError("a counted message needs an integer `count`")
        text = catalog.ngettext(message.singular, message.plural, count)
    else:
        text = catalog.gettext(message)
    return text.format(**params) if params else text


@functools.cache
def _translations(lang: str) -> Translations:
    """The catalog of `lang`: its `.mo`, or its `.po` compiled here if the `.mo` is stale."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return Translations(compiled, domain=DOMAIN)
    # A fresh checkout, or a catalog edited after `make messages-compile`.
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled_in_memory = BytesIO()
    write_mo(compiled_in_memory, catalog)
    compiled_in_memory.seek(0)
    return Translations(compiled_in_memory, domain=DOMAIN)


class Answer:
    """The language of an answer being made, once something chose it from the request."""

    __slots__ = ("lang",)

    def __init__(self) -> None:
        self.lang: str | None = None


_answer: ContextVar[Answer | None] = ContextVar("answer_language", default=None)


@contextmanager
def answering() -> Iterator[Answer]:
    """While the block runs (the answer to one request), the language `negotiate` last
    chose: the one the answer's texts are in. None while nothing chose one."""
    answer = Answer()
    token = _answer.set(answer)
    try:
        yield answer
    finally:
        _answer.reset(token)


def negotiate(
    accept_language: str | None,
    explicit: str | None = None,
    *,
    default: str | None = None,
) -> str:
    """The best supported language: an explicit choice first, then `Accept-Language` by
    q-value, then `default` (a signed-in resident's own), then Polish. Noted as the
    language of the answer being made, if any (`answering`)."""
    lang = requested(accept_language, explicit) or (
        default if default in LANGUAGES else DEFAULT_LANGUAGE
    )
    if (answer := _answer.get()) is not None:
        answer.lang = lang
    return lang


def requested(accept_language: str | None, explicit: str | None) -> str | None:
    """The supported language the request asks for, explicitly or by `Accept-Language`;
    None when it asks for none of them."""
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
    return min(ranked)[2] if ranked else None


def pick(text: Localized, lang: str) -> str:
    """Translated data in `lang`, falling back to the default language."""
    return text.get(lang) or text[DEFAULT_LANGUAGE]


def missing_languages(text: Localized) -> set[str]:
    return {lang for lang in LANGUAGES if not text.get(lang)}
