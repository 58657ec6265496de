"""Why an uploaded photo is refused (its type, damage or size), or cannot be read, in every
language."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from shared.errors import AppError
from shared.i18n import N_, translate

# A client's file name is echoed back, so a pathological one is cut short.
_MAX_NAME = 100

# TRANSLATORS: {name} is the name of the resident's file; the reason follows the colon.
_FILE_PREFIX = N_("File '{name}': ")


class PhotoRejected(AppError):
    """A photo that will not be stored; the file's name, when known, leads the detail.

    The processing sees only bytes and raises these without a name; the upload handler,
    which knows it, adds it with `raise exc.named(upload.filename)`.
    """

    status_code = 422
    code = "photo-rejected"
    title = N_("Photo rejected")
    detail = N_("This photo cannot be accepted.")

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
            prefix = translate(_FILE_PREFIX, lang, name=self.name)
            problem["detail"] = prefix + problem["detail"]
        return problem


class UnsupportedPhotoType(PhotoRejected):
    # RELIABILITY.md §5.3: a file that is none of the allowed formats takes the 415 path.
    status_code = 415
    code = "photo-unsupported-type"
    title = N_("Unsupported photo format")
    detail = N_("Send the photo as JPEG, PNG, WebP or HEIC.")


class DamagedPhoto(PhotoRejected):
    code = "photo-damaged"
    title = N_("Damaged photo")
    detail = N_(
        "The file is incomplete or damaged and cannot be read. Choose the photo again."
    )


class PhotoTooLarge(PhotoRejected):
    code = "photo-too-large"
    title = N_("Photo dimensions too large")
    detail = N_(
        "A photo may have at most {max_megapixels} megapixels and {max_side} pixels "
        "on its longer side."
    )

    def __init__(
        self, *, max_megapixels: int, max_side: int, name: str | None = None
    ) -> None:
        super().__init__(name, max_megapixels=max_megapixels, max_side=max_side)


class PhotoNotFound(AppError):
    status_code = 404
    code = "photo-not-found"
    title = N_("Photo not found")
    detail = N_("There is no photo with this id.")


class PhotoOriginalNotKept(AppError):
    status_code = 404
    code = "photo-original-not-kept"
    title = N_("No unblurred photo kept")
    detail = N_(
        "No copy of this photo from before its faces were blurred is kept: keeping them "
        "was off when it was sent, or its faces were not blurred."
    )


class PhotoLinkInvalid(AppError):
    status_code = 403
    code = "photo-link-invalid"
    title = N_("Photo link not valid")
    detail = N_(
        "This photo link is wrong or has expired. Ask whoever gave it to you for a new one."
    )


class PhotoStoreUnavailable(AppError):
    """The photo store failed (unreachable, timed out, full, refusing); nothing of the
    request was kept, so sending it again is safe."""

    status_code = 503
    code = "photo-store-unavailable"
    title = N_("Temporarily unavailable")
    detail = N_(
        "Photos cannot be stored or read just now. Try again in a moment; a report sent "
        "again with the same Idempotency-Key is never filed twice."
    )
    RETRY_AFTER_SECONDS: ClassVar[int] = 5

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.RETRY_AFTER_SECONDS)}
