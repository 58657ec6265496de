"""Real images for tests, made with Pillow (none is committed), and checks of the results."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import ExifTags, Image

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)

JPEG_SOI, JPEG_SOS, JPEG_EOI = 0xD8, 0xDA, 0xD9
APP0, APP1, APP2, COM = 0xE0, 0xE1, 0xE2, 0xFE


# --- making images ---------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noise(size: tuple[int, int]) -> Image.Image:
    """Incompressible pixels, so a file cut in half loses most of its image data."""
    rng = random.Random(0)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def with_corner(size: tuple[int, int], corner: tuple[int, int, int]) -> Image.Image:
    """Blue, with a 20×20 square of `corner` at the top left."""
    image = Image.new("RGB", size, BLUE)
    image.paste(corner, (0, 0, 20, 20))
    return image


def gps_exif(lat: tuple[float, float, float], lat_ref: str, lon, lon_ref) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCamCo"
    exif[ExifTags.Base.BodySerialNumber] = "SN-123456789"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = lat_ref
    gps[ExifTags.GPS.GPSLatitude] = lat
    gps[ExifTags.GPS.GPSLongitudeRef] = lon_ref
    gps[ExifTags.GPS.GPSLongitude] = lon
    return exif


# Wrocław, 51.1097 N 17.0326 E, as a camera writes it: degrees, minutes, seconds.
WROCLAW = ((51.0, 6.0, 34.92), "N", (17.0, 1.0, 57.36), "E")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data))
    )


def blank_png(width: int, height: int) -> bytes:
    """A real, valid 1-bit PNG of zeros: a few kB on disk, width × height once decoded.

    Built row by row with zlib, so the test never holds the decoded image.
    """
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = bytes(1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height))
    pixels += compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def png_with_garbage_pixels(width: int, height: int) -> bytes:
    """A PNG whose header is sound and whose image data is not."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"this is not zlib data")
        + png_chunk(b"IEND", b"")
    )


def primaries_swapped_profile() -> bytes:
    """An ICC v2 RGB profile whose red primary is sRGB's green and vice versa.

    Pure red in such a file means what sRGB calls pure green, so an ignored profile and a
    converted one give opposite colours.
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    # sRGB's primaries adapted to D50, as the ICC connection space wants them.
    red, green, blue = (
        (0.4361, 0.2225, 0.0139),
        (0.3851, 0.7169, 0.0971),
        (0.1431, 0.0606, 0.7141),
    )
    linear = b"curv" + bytes(4) + struct.pack(">I", 0)
    name = b"swapped\0"
    description = b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(78)
    tags = [
        (b"desc", description),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(*green)),
        (b"gXYZ", xyz(*red)),
        (b"bXYZ", xyz(*blue)),
        (b"rTRC", linear),
        (b"gTRC", linear),
        (b"bTRC", linear),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table = blob = b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(blob), len(data))
        blob += data
    body = struct.pack(">I", len(tags)) + table + blob
    header = (
        struct.pack(">I", 128 + len(body))
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(48)
    )
    assert len(header) == 128
    return header + body


def camera_jpeg(size: tuple[int, int]) -> bytes:
    """Blue with a red box over the top-left fifth, turned by EXIF (Orientation 6: turn
    90° clockwise to view), with a GPS fix in Wrocław."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 5, size[1] // 5))
    exif = gps_exif(*WROCLAW)
    exif[ExifTags.Base.Orientation] = 6
    return encode(image, "JPEG", quality=90, exif=exif.tobytes())


# --- reading results -------------------------------------------------------------------


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    return image


def jpeg_markers(data: bytes) -> list[int]:
    """Every marker in a JPEG, in order, walking segments and skipping scan data."""
    assert data[:2] == b"\xff\xd8"
    markers = [JPEG_SOI]
    at = 2
    while at < len(data):
        assert data[at] == 0xFF, f"no marker at {at}"
        marker = data[at + 1]
        markers.append(marker)
        if marker == JPEG_EOI:
            return markers
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length
        if marker == JPEG_SOS:
            # Entropy-coded data: 0xFF is followed by 0x00 (stuffing) or a restart marker.
            while not (
                data[at] == 0xFF and data[at + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                at += 1
    raise AssertionError("no EOI")


def assert_close(pixel, expected, tolerance: int = 40) -> None:
    assert all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True)), (
        pixel,
        expected,
    )


def assert_pixels_only(data: bytes) -> None:
    """No EXIF, GPS, XMP, ICC or comment: APP0 (JFIF) is the only application segment."""
    markers = jpeg_markers(data)
    assert APP0 in markers
    assert not {APP1, APP2, COM} & set(markers)
    assert not [m for m in markers if 0xE1 <= m <= 0xEF]
    image = decoded(data)
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(image.info)
    for leak in (b"Exif", b"SecretCamCo", b"SN-123456789", b"xmpmeta", b"secret note"):
        assert leak not in data
