import io
import os
import shutil
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from shared import i18n
from shared.i18n import missing_languages, negotiate, pick, translate


class TestNegotiate:
    @pytest.mark.parametrize(
        ("header", "explicit", "expected"),
        [
            (None, None, "pl"),
            ("de-DE,de;q=0.9,en;q=0.8", None, "de"),
            ("fr-FR, en;q=0.5, de;q=0.7", None, "de"),
            ("en-GB", None, "en"),
            ("fr, es", None, "pl"),
            ("de;q=0, en;q=0.1", None, "en"),
            ("de", "en", "en"),
            ("de", "fr", "de"),
            ("en;q=garbage, de", None, "de"),
        ],
    )
    def test_picks_the_best_supported_language(self, header, explicit, expected):
        assert negotiate(header, explicit) == expected


class TestPick:
    def test_falls_back_to_polish(self):
        assert pick({"pl": "dziura", "en": ""}, "en") == "dziura"

    def test_missing_languages(self):
        assert missing_languages({"pl": "a", "en": "b"}) == {"de"}


class TestTranslate:
    def test_translates_then_fills_the_placeholders(self):
        assert translate("Allowed statuses: {allowed}.", "de", allowed="{x}") == (
            "Erlaubte Status: {x}."
        )
        assert translate("Not found", "pl") == "Nie znaleziono"

    def test_english_is_the_msgid(self):
        assert translate("Not found", "en") == "Not found"

    def test_an_unknown_message_stays_as_it_is_and_unformatted(self):
        assert translate("not ours {x}", "de") == "not ours {x}"

    def test_an_unsupported_language_gets_polish(self):
        assert translate("Not found", "fr") == "Nie znaleziono"


def compile_po(text: str, mo: Path) -> None:
    with mo.open("wb") as compiled:
        write_mo(compiled, read_po(io.BytesIO(text.encode())))


class TestCatalogLoading:
    @pytest.fixture
    def messages(self, tmp_path, monkeypatch):
        """A copy of the catalogs without compiled files, used instead of the real ones."""
        copy = tmp_path / "locale"
        shutil.copytree(i18n.LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
        monkeypatch.setattr(i18n, "LOCALE_DIR", copy)
        i18n._translations.cache_clear()
        yield copy / "de" / "LC_MESSAGES"
        i18n._translations.cache_clear()

    def test_without_a_compiled_catalog_the_po_is_read(self, messages):
        assert not (messages / "mam.mo").exists()
        assert translate("Not found", "de") == "Nicht gefunden"

    def test_a_po_edited_after_compiling_wins_over_the_stale_mo(self, messages):
        po, mo = messages / "mam.po", messages / "mam.mo"
        compile_po(po.read_text(), mo)
        po.write_text(po.read_text().replace("Nicht gefunden", "Nirgends"))
        os.utime(mo, (1_000_000, 1_000_000))
        assert translate("Not found", "de") == "Nirgends"

    def test_a_current_mo_is_used(self, messages):
        po, mo = messages / "mam.po", messages / "mam.mo"
        compile_po(po.read_text().replace("Nicht gefunden", "Nirgends"), mo)
        os.utime(po, (1_000_000, 1_000_000))
        assert translate("Not found", "de") == "Nirgends"
