"""Every text a resident can see is in the catalogs, translated, and the catalogs are current."""

import importlib
import pkgutil
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

import crm_adapter
import intake_service
import shared
from intake_service.categories.attributes import _MESSAGES as ATTRIBUTE_MESSAGES
from intake_service.notifications.texts import (
    FEEDBACK_REQUESTED,
    STATUS_CHANGED,
    TITLE,
    UNIT_NOTE,
)
from intake_service.reports.status_names import STATUS_NAMES
from shared.contracts import ReportStatus
from shared.errors import _HTTP_TITLES, AppError
from shared.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, Np_, translate
from shared.validation_messages import _MESSAGES as VALIDATION_MESSAGES
from tests.helpers import POTHOLE

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("pl", "de")
"""English is the msgids themselves: its catalog stays untranslated."""


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def messages(catalog: Catalog) -> list[Message]:
    """The catalog's messages without its header."""
    return [message for message in catalog if message.id]


def singular(message: Message) -> str:
    """A message's msgid: its singular, for a counted one."""
    return str(message.id[0] if message.pluralizable else message.id)


def forms(message: Message) -> tuple[str, ...]:
    """A message's translation, in each of its forms."""
    string = message.string
    return (
        tuple(str(s) for s in string) if isinstance(string, tuple) else (str(string),)
    )


def msgids(catalog: Catalog) -> set[str]:
    return {singular(message) for message in messages(catalog)}


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field is not None}


@pytest.fixture(scope="module")
def template() -> Catalog:
    return read_catalog(LOCALE_DIR / f"{DOMAIN}.pot")


def catalog_of(lang: str) -> Catalog:
    return read_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po")


def test_the_template_is_up_to_date_with_the_code(template, tmp_path, monkeypatch):
    # The same extraction as `make messages-extract` (its settings are in pyproject.toml).
    monkeypatch.chdir(ROOT)
    extracted = tmp_path / "mam.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-o", str(extracted)])
    fresh = msgids(read_catalog(extracted))
    assert fresh - msgids(template) == set(), (
        "run: make messages-extract messages-update"
    )
    assert msgids(template) - fresh == set(), (
        "run: make messages-extract messages-update"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_catalog_has_exactly_the_templates_messages(template, lang):
    assert msgids(catalog_of(lang)) == msgids(template), "run: make messages-update"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated(lang):
    for message in messages(catalog_of(lang)):
        assert all(forms(message)), (lang, message.id)
        assert not message.fuzzy, (lang, message.id)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders(lang):
    for message in messages(catalog_of(lang)):
        if not message.pluralizable:
            if message.string:
                assert placeholders(str(message.string)) == placeholders(
                    str(message.id)
                ), (lang, message.id)
            continue
        # A form may say the number in words ("once"): every other placeholder stays.
        wanted = placeholders(str(message.id[1]))
        for form in forms(message):
            if form:
                assert wanted - {"count"} <= placeholders(form) <= wanted, (
                    lang,
                    message.id,
                )


def test_a_message_with_a_count_has_plural_forms(template):
    """A message that carries `{count}` is a plural entry (`Np_`): one form would be
    wrong for 1 in every language, and for 2-4 in Polish."""
    for message in messages(template):
        if message.pluralizable:
            assert "{count}" in str(message.id[1]), message.id
        else:
            assert "{count}" not in str(message.id), (
                f"mark it Np_(singular, plural): {message.id}"
            )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_plural_entry_has_the_languages_forms(template, lang):
    catalog = catalog_of(lang)
    counted = {singular(m) for m in messages(template) if m.pluralizable}
    assert counted, "the template has no counted message"
    for message in messages(catalog):
        if singular(message) in counted:
            assert message.pluralizable, (lang, message.id)
            assert len(forms(message)) == catalog.num_plurals, (lang, message.id)
    assert (catalog.num_plurals, catalog.plural_expr) == {
        "pl": (3, catalog.plural_expr),
        "en": (2, "(n != 1)"),
        "de": (2, "(n != 1)"),
    }[lang]


@pytest.mark.parametrize(
    ("count", "polish", "german"),
    [
        (1, "Najwyżej 1 znak.", "Höchstens 1 Zeichen."),
        (3, "Najwyżej 3 znaki.", "Höchstens 3 Zeichen."),
        (5, "Najwyżej 5 znaków.", "Höchstens 5 Zeichen."),
        (12, "Najwyżej 12 znaków.", "Höchstens 12 Zeichen."),
        (22, "Najwyżej 22 znaki.", "Höchstens 22 Zeichen."),
        (500, "Najwyżej 500 znaków.", "Höchstens 500 Zeichen."),
    ],
)
def test_counts_take_the_form_their_number_asks_for(count, polish, german):
    message = Np_("At most {count} character.", "At most {count} characters.")
    assert translate(message, "pl", count=count) == polish
    assert translate(message, "de", count=count) == german
    english = "At most 1 character." if count == 1 else f"At most {count} characters."
    assert translate(message, "en", count=count) == english


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def import_everything():
    for package in (shared, intake_service, crm_adapter):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in module.name and not module.name.endswith(
                "__main__"
            ):
                importlib.import_module(module.name)


def test_every_error_text_is_a_catalog_message(template):
    import_everything()
    errors = [AppError, *all_subclasses(AppError)]
    assert len(errors) > 5
    known = msgids(template)
    for error in errors:
        for text in (error.title, error.detail):
            assert text is None or text in known, error.__name__
    assert set(_HTTP_TITLES.values()) <= known


def test_every_status_notification_and_field_message_is_a_catalog_message(template):
    assert set(STATUS_NAMES) == set(ReportStatus)
    texts = {
        *STATUS_NAMES.values(),
        STATUS_CHANGED,
        UNIT_NOTE,
        FEEDBACK_REQUESTED,
        TITLE,
        *ATTRIBUTE_MESSAGES.values(),
        *VALIDATION_MESSAGES.values(),
    }
    assert texts - msgids(template) == set()


@pytest.mark.parametrize(
    ("headers", "required", "too_long"),
    [
        (
            {},
            "To pole jest wymagane.",
            "Tekst jest za długi (maksymalna długość: 2000).",
        ),
        (
            {"Accept-Language": "de-DE,de;q=0.9"},
            "Dieses Feld ist erforderlich.",
            "Der Text ist zu lang (Höchstlänge: 2000).",
        ),
        (
            {"Accept-Language": "en"},
            "This field is required.",
            "The text is too long (maximum length: 2000).",
        ),
    ],
)
async def test_validation_errors_speak_the_residents_language(
    intake, headers, required, too_long
):
    report = {k: v for k, v in POTHOLE.items() if k != "category"}
    response = await intake.post(
        "/v1/reports", json=report | {"description": "x" * 2001}, headers=headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["category"] == {
        "field": "category",
        "in": "body",
        "code": "missing",
        "message": required,
    }
    assert errors["description"] == {
        "field": "description",
        "in": "body",
        "code": "string_too_long",
        "message": too_long,
    }


async def test_our_validators_messages_are_translated_too(intake):
    response = await intake.post(
        "/v1/reports",
        json=POTHOLE | {"description": "dziura\x00"},
        headers={"Accept-Language": "de"},
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "value_error"
    assert error["message"] == "Der Text darf keine NUL-Zeichen enthalten."
