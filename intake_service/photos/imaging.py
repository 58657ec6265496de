"""Turning an uploaded photo's bytes into a clean, upright, downscaled JPEG and thumbnail,
its faces blurred.

Pillow (and, to blur, numpy and onnxruntime) without the web stack: photo worker processes
import this module and nothing more, so they start in a fraction of a second and hold
little memory. A photo that cannot be used raises a `Refusal`, which `processing` turns
into the resident's error.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

import pillow_heif
from PIL import (
    ExifTags,
    Image,
    ImageCms,
    JpegImagePlugin,
    PngImagePlugin,
    WebPImagePlugin,
)

# HEIC is what iPhones send. Thumbnails, depth maps and auxiliary images inside the file
# are never used, so they are not even parsed.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

# The decoders of the other accepted types are registered by their import above, and the
# few Pillow loads on its first open are loaded now: otherwise the first photo would import
# them (or, for WebP, every plugin Pillow has) while holding the GIL, in the API process's
# thread that reads a photo's header, and the event loop would stall meanwhile.
_DECODERS = (JpegImagePlugin, PngImagePlugin, WebPImagePlugin)
Image.preinit()

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
    faces: int | None = None
    """Faces found and blurred; None when none were looked for (blurring off)."""
    original: bytes | None = None
    """The photo before its faces were blurred (upright, without metadata, the same size),
    when it is to be kept."""


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


class Refusal(Exception):
    """Why a photo cannot be used: one of the kinds below (picklable, for worker processes)."""

    UNSUPPORTED = "unsupported"
    DAMAGED = "damaged"
    TOO_LARGE = "too-large"

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


# What each EXIF Orientation asks for to show the photo upright (as ImageOps.exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def render(
    data: bytes,
    *,
    max_side: int = 2048,
    thumb_side: int = 320,
    max_pixels: int = 40_000_000,
    face_threshold: float | None = None,
    keep_original: bool = False,
) -> ProcessedPhoto:
    """Decode, check, downscale, orient, flatten and re-encode a photo with no metadata.

    With a `face_threshold`, the faces found that sure are blurred before anything is
    encoded, thumbnail included; `keep_original` then also encodes the photo as it was
    before. Raises a `Refusal` for an unsupported type, a damaged file or one too large.
    CPU-bound and blocking.

    The work is ordered so that the full-size pixels are touched as few times as possible:
    a JPEG is decoded at 1/2, 1/4 or 1/8 scale straight from the DCT when it is at least
    twice the target, everything is scaled down before it is turned upright and before its
    colour profile is applied (both then cost a fraction), and nothing is copied at full size.
    """
    content_type = sniff(data)
    if content_type is None:
        raise Refusal(Refusal.UNSUPPORTED)
    original = _open(data, _PILLOW_FORMAT[content_type])
    width, height = original.size
    if width * height > max_pixels or max(width, height) > MAX_SIDE:
        raise Refusal(Refusal.TOO_LARGE)
    try:
        if original.format == "JPEG":
            original.draft("RGB", _fit(original.size, max_side))
        original.load()
        # Transparency is laid over white at full size: scaled first, transparent
        # pixels' colours would bleed into the edges.
        image = _flatten(original)
        image = _scaled(image, max_side, Image.Resampling.BICUBIC)
        # Read from the original after the decode: a PNG's eXIf chunk may follow its
        # pixels. The photo is turned as the camera's Orientation tag says.
        exif = original.getexif()
        turn = _TRANSPOSE.get(_orientation(exif))
        if turn is not None:
            image = image.transpose(turn)
        image = _to_srgb(image, original.info.get("icc_profile"))
    except MemoryError:
        raise
    # Decoders of untrusted bytes fail in many ways (OSError for a truncated file,
    # SyntaxError, ValueError, struct.error, ...): to the resident each is a damaged file.
    except Exception as error:
        raise Refusal(Refusal.DAMAGED) from error
    gps = _gps(exif)
    # The full-size decode is let go before the face detector takes its memory.
    del original, exif
    return _encoded(
        image, thumb_side, gps, face_threshold=face_threshold, keep=keep_original
    )


def _encoded(
    image: Image.Image,
    thumb_side: int,
    gps: tuple[float, float] | None,
    *,
    face_threshold: float | None,
    keep: bool,
) -> ProcessedPhoto:
    """The photo and its thumbnail as JPEGs that carry nothing of the original's `info`,
    their faces blurred when a threshold is given."""
    # Nothing of the original's `info` may reach the encoder: Pillow's JPEG writer takes
    # a COM comment from it even when not asked to.
    image.info = {}
    original = None
    faces = None
    if face_threshold is not None:
        # Imported here: the API process, which imports this module for `sniff` and
        # `decode_cost`, never blurs (its photos are rendered in the workers).
        from intake_service.photos import blurring

        # Encoded first: blurring changes the pixels in place.
        original = _jpeg(image) if keep else None
        faces = blurring.blur_faces(image, face_threshold)
    thumbnail = _scaled(image, thumb_side, Image.Resampling.LANCZOS)
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
        faces=faces,
        original=original,
    )


def decode_cost(source: bytes | IO[bytes], *, max_side: int, max_pixels: int) -> int:
    """The pixels decoding a photo holds at once, read from its header alone (blocking).

    `source` is the photo's bytes or a file of them (read from its start, left anywhere).
    A JPEG is decoded at a reduced scale down to twice the target side; other formats at
    full size. Bytes that are no photo, or too large one, cost nothing: the decode refuses
    them at the header.
    """
    if isinstance(source, bytes):
        head = source[:16]
    else:
        source.seek(0)
        head = source.read(16)
        source.seek(0)
    content_type = sniff(head)
    if content_type is None:
        return 0
    try:
        original = _open(source, _PILLOW_FORMAT[content_type])
    except Refusal:
        return 0
    width, height = original.size
    if width * height > max_pixels or max(width, height) > MAX_SIDE:
        return 0
    pixels = width * height
    if original.format == "JPEG":
        # At most twice the target on each side (see render).
        pixels = min(pixels, 4 * max_side * max_side)
    return min(pixels, max_pixels)


def _open(source: bytes | IO[bytes], pillow_format: str) -> Image.Image:
    """The image with only its header read, or a refusal; Pillow's bomb warning included."""
    file = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with _WARNINGS_LOCK, warnings.catch_warnings():
            # Between MAX_IMAGE_PIXELS and twice that Pillow only warns, and a warning
            # would let the decode go on; as an error it stops at the header.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(file, formats=[pillow_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refusal(Refusal.TOO_LARGE) from None
    except MemoryError:
        raise
    # As in render: every way a header fails to parse is a damaged file.
    except Exception as error:
        raise Refusal(Refusal.DAMAGED) from error


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """`size` scaled to at most `side` on its longer side, keeping its proportions."""
    width, height = size
    if max(width, height) <= side:
        return size
    if width >= height:
        return side, max(round(height * side / width), 1)
    return max(round(width * side / height), 1), side


def _scaled(image: Image.Image, side: int, resample: Image.Resampling) -> Image.Image:
    """At most `side` on the longer side (never enlarged); a box reduction first when far
    larger, as Pillow's `thumbnail` does (`reducing_gap=2`)."""
    size = _fit(image.size, side)
    if size == image.size:
        return image
    return image.resize(size, resample, reducing_gap=2.0)


def _orientation(exif: Image.Exif) -> int:
    try:
        return int(exif.get(ExifTags.Base.Orientation, 1))
    except (TypeError, ValueError):
        return 1


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


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB in sRGB: the photo's ICC profile (Display P3 on iPhones) applied, then dropped.

    Dropping it without converting would leave the colours as if they were sRGB, duller
    than the resident saw them.
    """
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


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    """(latitude, longitude) in signed decimal degrees, or None when absent or nonsense."""
    try:
        tags = exif.get_ifd(ExifTags.IFD.GPSInfo)
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
