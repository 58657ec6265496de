"""Why an uploaded photo is refused: its type, damage or size, in every language."""

from __future__ import annotations

from typing import Any, Self

from shared.errors import AppError
from shared.i18n import Localized, pick

# A client's file name is echoed back, so a pathological one is cut short.
_MAX_NAME = 100

_FILE_PREFIX: Localized = {
    "pl": "Plik „{name}”: ",
    "en": "File '{name}': ",
    "de": "Datei „{name}“: ",
}


class PhotoRejected(AppError):
    """A photo that will not be stored; the file's name, when known, leads the detail.

    The processing sees only bytes and raises these without a name; the upload handler,
    which knows it, adds it with `raise exc.named(upload.filename)`.
    """

    status_code = 422
    code = "photo-rejected"
    title = {
        "pl": "Zdjęcie odrzucone",
        "en": "Photo rejected",
        "de": "Foto abgelehnt",
    }
    detail = {
        "pl": "Tego zdjęcia nie da się przyjąć.",
        "en": "This photo cannot be accepted.",
        "de": "Dieses Foto kann nicht angenommen werden.",
    }

    def __init__(self, name: str | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.named(name)

    def named(self, name: str | None) -> Self:
        """This rejection, naming the client's file in its detail."""
        self.name = name[:_MAX_NAME] if name else None
        return self

    def body(self, lang: str) -> dict[str, Any]:
        problem = super().body(lang)
        if self.name and "detail" in problem:
            prefix = pick(_FILE_PREFIX, lang).format(name=self.name)
            problem["detail"] = prefix + problem["detail"]
        return problem


class UnsupportedPhotoType(PhotoRejected):
    # RELIABILITY.md §5.3: a file that is none of the allowed formats takes the 415 path.
    status_code = 415
    code = "photo-unsupported-type"
    title = {
        "pl": "Nieobsługiwany format zdjęcia",
        "en": "Unsupported photo format",
        "de": "Nicht unterstütztes Fotoformat",
    }
    detail = {
        "pl": "Prześlij zdjęcie w formacie JPEG, PNG, WebP albo HEIC.",
        "en": "Send the photo as JPEG, PNG, WebP or HEIC.",
        "de": "Bitte senden Sie das Foto als JPEG, PNG, WebP oder HEIC.",
    }


class DamagedPhoto(PhotoRejected):
    code = "photo-damaged"
    title = {
        "pl": "Uszkodzone zdjęcie",
        "en": "Damaged photo",
        "de": "Beschädigtes Foto",
    }
    detail = {
        "pl": "Plik jest niekompletny albo uszkodzony i nie da się go odczytać. "
        "Wybierz zdjęcie jeszcze raz.",
        "en": "The file is incomplete or damaged and cannot be read. "
        "Choose the photo again.",
        "de": "Die Datei ist unvollständig oder beschädigt und kann nicht gelesen werden. "
        "Bitte wählen Sie das Foto erneut.",
    }


class PhotoTooLarge(PhotoRejected):
    code = "photo-too-large"
    title = {
        "pl": "Zdjęcie ma za duże wymiary",
        "en": "Photo dimensions too large",
        "de": "Foto zu groß",
    }
    detail = {
        "pl": "Zdjęcie może mieć najwyżej {max_megapixels} Mpx "
        "i {max_side} pikseli na dłuższym boku.",
        "en": "A photo may have at most {max_megapixels} megapixels "
        "and {max_side} pixels on its longer side.",
        "de": "Ein Foto darf höchstens {max_megapixels} Megapixel "
        "und {max_side} Pixel an der längeren Seite haben.",
    }

    def __init__(
        self, *, max_megapixels: int, max_side: int, name: str | None = None
    ) -> None:
        super().__init__(name, max_megapixels=max_megapixels, max_side=max_side)


class PhotoNotFound(AppError):
    status_code = 404
    code = "photo-not-found"
    title = {
        "pl": "Nie ma takiego zdjęcia",
        "en": "Photo not found",
        "de": "Foto nicht gefunden",
    }
    detail = {
        "pl": "Zdjęcie o tym identyfikatorze nie istnieje.",
        "en": "There is no photo with this id.",
        "de": "Es gibt kein Foto mit dieser Kennung.",
    }
