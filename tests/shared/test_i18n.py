import pytest

from shared.i18n import missing_languages, negotiate, pick


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
