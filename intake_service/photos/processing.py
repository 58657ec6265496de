"""Turning an uploaded photo's bytes into a clean, upright, downscaled JPEG and thumbnail."""

from __future__ import annotations

import hashlib
import io
import math
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageOps

from intake_service.photos.exceptions import (
    DamagedPhoto,
    PhotoRejected,
    PhotoTooLarge,
    UnsupportedPhotoType,
)

# HEIC is what iPhones send. Thumbnails, depth maps and auxiliary images inside the file
# are never used, so they are not even parsed.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

# Pillow's own backstop (RELIABILITY.md §5.2): it warns above this many pixels and raises
# above twice as many, both read from the header before any pixel is decoded. The
# explicit `max_pixels` check below is the real limit; values above this one cannot take
# effect because the warning already rejects.
Image.MAX_IMAGE_PIXELS = 50_000_000

MAX_SIDE = 20_000
"""No photo side may be longer, whatever its pixel count (a 1×10⁶ strip is no photo)."""

OUTPUT_TYPE = "image/jpeg"

# The decoder each sniffed type may use: a file that says it is a PNG is never handed to
# another plugin (or to an exotic one such as FITS).
_PILLOW_FORMAT = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
}

# Major brands of HEIF files with HEVC-coded images (iPhone photos are 'heic'; still
# images from other cameras 'mif1'; sequences 'msf1', 'hevc', 'hevx').
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
)

# `warnings.catch_warnings` swaps the process-wide filter list and puts it back on exit,
# so two threads inside it at once could restore each other's filters; this serialises
# our use of it. It is held only while Pillow reads the header, not while it decodes.
_WARNINGS_LOCK = threading.Lock()

_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class ProcessedPhoto:
    content_type: str
    image: bytes
    thumbnail: bytes
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    sha256: str
    gps: tuple[float, float] | None
    """(latitude, longitude) from the original's EXIF: a suggestion, never the report's location."""


def sniff(data: bytes) -> str | None:
    """The content type by the file's first bytes; None for anything but JPEG, PNG, WebP, HEIC."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def process_photo(
    data: bytes,
    *,
    max_side: int = 2048,
    thumb_side: int = 320,
    max_pixels: int = 40_000_000,
) -> ProcessedPhoto:
    """Decode, check, orient, flatten, downscale and re-encode a photo with no metadata.

    Raises a `PhotoRejected` for an unsupported type, a damaged file or one too large.
    CPU-bound: call it in a worker thread.
    """
    content_type = sniff(data)
    if content_type is None:
        raise UnsupportedPhotoType()
    original = _open(data, _PILLOW_FORMAT[content_type], max_pixels)
    width, height = original.size
    if width * height > max_pixels or max(width, height) > MAX_SIDE:
        raise _too_large(max_pixels)
    try:
        if original.format == "JPEG":
            # Decodes at 1/2, 1/4 or 1/8 scale straight from the DCT when the photo is
            # at least twice the target: faster, and a fraction of the memory.
            original.draft("RGB", (max_side, max_side))
        # Decodes the pixels, then turns them as the camera's Orientation tag says.
        upright = ImageOps.exif_transpose(original)
        image = _to_srgb(_flatten(upright))
    except MemoryError:
        raise
    # Decoders of untrusted bytes fail in many ways (OSError for a truncated file,
    # SyntaxError, ValueError, struct.error, ...): to the resident each is a damaged file.
    except Exception as error:
        raise DamagedPhoto() from error
    # Read from the original after the decode: a PNG's eXIf chunk may follow its pixels.
    gps = _gps(original)
    # Nothing of the original's `info` may reach the encoder: Pillow's JPEG writer takes
    # a COM comment from it even when not asked to.
    image.info = {}
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    thumbnail = image.copy()
    thumbnail.thumbnail((thumb_side, thumb_side), Image.Resampling.LANCZOS)
    encoded = _jpeg(image)
    return ProcessedPhoto(
        content_type=OUTPUT_TYPE,
        image=encoded,
        thumbnail=_jpeg(thumbnail),
        width=image.width,
        height=image.height,
        thumb_width=thumbnail.width,
        thumb_height=thumbnail.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
        gps=gps,
    )


def decode_cost(data: bytes, *, max_side: int, max_pixels: int) -> int:
    """The pixels decoding `data` holds at once, read from its header alone (blocking).

    A JPEG is decoded at a reduced scale down to twice the target side; other formats at
    full size. Bytes that are no photo, or too large one, cost nothing: the decode refuses
    them at the header.
    """
    content_type = sniff(data)
    if content_type is None:
        return 0
    try:
        original = _open(data, _PILLOW_FORMAT[content_type], max_pixels)
    except PhotoRejected:
        return 0
    width, height = original.size
    pixels = width * height
    if original.format == "JPEG":
        pixels = min(pixels, 4 * max_side * max_side)
    return min(pixels, max_pixels)


def _open(data: bytes, pillow_format: str, max_pixels: int) -> Image.Image:
    """The image with only its header read, or a rejection; Pillow's bomb warning included."""
    try:
        with _WARNINGS_LOCK, warnings.catch_warnings():
            # Between MAX_IMAGE_PIXELS and twice that Pillow only warns, and a warning
            # would let the decode go on; as an error it stops at the header.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=[pillow_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(max_pixels) from None
    except MemoryError:
        raise
    # As in process_photo: every way a header fails to parse is a damaged file.
    except Exception as error:
        raise DamagedPhoto() from error


def _too_large(max_pixels: int) -> PhotoTooLarge:
    return PhotoTooLarge(max_megapixels=max_pixels // 1_000_000, max_side=MAX_SIDE)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid over white (a transparent PNG is not black)."""
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, _WHITE)
        background.paste(rgba, mask=rgba.getchannel("A"))
        background.info = dict(image.info)
        return background
    if image.mode in ("RGB", "CMYK", "L"):
        # Left as they are so a CMYK or grey ICC profile still matches in _to_srgb.
        return image
    return image.convert("RGB")


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB in sRGB: an embedded ICC profile (Display P3 on iPhones) is applied, then dropped.

    Dropping it without converting would leave the colours as if they were sRGB, duller
    than the resident saw them.
    """
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            # A fresh sRGB profile per call: LittleCMS profile handles are not meant to
            # be shared between threads.
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            # A broken or mismatched profile costs colour accuracy, not the photo.
            converted = None
        if converted is not None:
            return converted
    return image if image.mode == "RGB" else image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif=, xmp=, icc_profile= or comment=: the output carries pixels only.
    image.save(out, "JPEG", quality=85, progressive=True, optimize=True)
    return out.getvalue()


def _gps(image: Image.Image) -> tuple[float, float] | None:
    """(latitude, longitude) in signed decimal degrees, or None when absent or nonsense."""
    try:
        tags = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        latitude = _degrees(tags, ExifTags.GPS.GPSLatitude, ExifTags.GPS.GPSLatitudeRef)
        longitude = _degrees(
            tags, ExifTags.GPS.GPSLongitude, ExifTags.GPS.GPSLongitudeRef
        )
    # The GPS block is only a hint: malformed EXIF must never cost the photo.
    except Exception:
        return None
    if latitude is None or longitude is None:
        return None
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None
    # Receivers without a fix write zeros; (0, 0) is open sea, not a report location.
    if latitude == 0 and longitude == 0:
        return None
    # Seven decimals are a centimetre: more is the noise of the degrees-minutes-seconds sum.
    return round(latitude, 7), round(longitude, 7)


def _degrees(tags: Mapping[int, Any], value_tag: int, ref_tag: int) -> float | None:
    value = tags.get(value_tag)
    ref = tags.get(ref_tag)
    if value is None or ref is None:
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    ref = str(ref).strip("\x00 ").upper()
    if ref not in ("N", "S", "E", "W"):
        return None
    degrees, minutes, seconds = (float(part) for part in value)
    result = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(result):
        return None
    return -result if ref in ("S", "W") else result
