"""Turning an uploaded photo's bytes into a clean, upright, downscaled JPEG and thumbnail,
or into the resident's error: `imaging` does the work, this module names the refusals."""

from __future__ import annotations

from typing import IO

from intake_service.photos import imaging
from intake_service.photos.exceptions import (
    DamagedPhoto,
    PhotoRejected,
    PhotoTooLarge,
    UnsupportedPhotoType,
)
from intake_service.photos.imaging import (
    MAX_SIDE,
    OUTPUT_TYPE,
    ProcessedPhoto,
    Refusal,
    sniff,
)

__all__ = [
    "MAX_SIDE",
    "OUTPUT_TYPE",
    "ProcessedPhoto",
    "decode_cost",
    "process_photo",
    "rejection",
    "sniff",
]


def process_photo(
    data: bytes,
    *,
    max_side: int = 2048,
    thumb_side: int = 320,
    max_pixels: int = 40_000_000,
    face_threshold: float | None = None,
    keep_original: bool = False,
) -> ProcessedPhoto:
    """Decode, check, orient, flatten, downscale and re-encode a photo with no metadata,
    its faces blurred when a `face_threshold` is given (see `imaging.render`).

    Raises a `PhotoRejected` for an unsupported type, a damaged file or one too large.
    CPU-bound: call it in a worker thread, or through a `PhotoPool`.
    """
    try:
        return imaging.render(
            data,
            max_side=max_side,
            thumb_side=thumb_side,
            max_pixels=max_pixels,
            face_threshold=face_threshold,
            keep_original=keep_original,
        )
    except Refusal as refusal:
        raise rejection(refusal, max_pixels=max_pixels) from refusal.__cause__


def decode_cost(source: bytes | IO[bytes], *, max_side: int, max_pixels: int) -> int:
    """The pixels decoding a photo holds at once, read from its header alone (blocking)."""
    return imaging.decode_cost(source, max_side=max_side, max_pixels=max_pixels)


def rejection(refusal: Refusal, *, max_pixels: int) -> PhotoRejected:
    """The resident's error for a refusal."""
    if refusal.kind == Refusal.UNSUPPORTED:
        return UnsupportedPhotoType()
    if refusal.kind == Refusal.TOO_LARGE:
        return PhotoTooLarge(max_megapixels=max_pixels // 1_000_000, max_side=MAX_SIDE)
    return DamagedPhoto()
