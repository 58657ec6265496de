"""Photo processing and storage: every image is made here with Pillow, none is committed."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import stat
import threading
import warnings
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, JpegImagePlugin

from intake_service.photos.exceptions import (
    DamagedPhoto,
    PhotoRejected,
    PhotoTooLarge,
    UnsupportedPhotoType,
)
from intake_service.photos.processing import decode_cost, process_photo, sniff
from intake_service.photos.service import PixelBudget
from intake_service.photos.storage import LocalDiskStorage, PhotoStorage
from shared.i18n import LANGUAGES
from tests.images import (
    APP1,
    APP2,
    BLUE,
    COM,
    GREEN,
    RED,
    WHITE,
    WROCLAW,
    assert_close,
    assert_pixels_only,
    blank_png,
    camera_jpeg,
    decoded,
    encode,
    gps_exif,
    jpeg_markers,
    noise,
    png_with_garbage_pixels,
    primaries_swapped_profile,
    with_corner,
)

# --- sniff -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftyphevc\x00\x00\x00\x00", "image/heic"),
        (b"<!DOCTYPE html><html><body>not a photo</body></html>", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", None),
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00", None),
        (b"\xff\xd8", None),
        (b"", None),
    ],
)
def test_sniff_goes_by_the_first_bytes_only(data, expected):
    assert sniff(data) == expected


def test_sniff_recognises_real_files_of_every_allowed_type():
    image = Image.new("RGB", (16, 16), RED)
    assert sniff(encode(image, "JPEG")) == "image/jpeg"
    assert sniff(encode(image, "PNG")) == "image/png"
    assert sniff(encode(image, "WEBP")) == "image/webp"
    assert sniff(encode(image, "HEIF")) == "image/heic"


# --- processing ------------------------------------------------------------------------


def test_upright_jpeg_is_re_encoded_with_its_size_and_colours():
    original = with_corner((64, 48), RED)
    result = process_photo(encode(original, "JPEG", quality=95))

    assert result.content_type == "image/jpeg"
    assert (result.width, result.height) == (64, 48)
    assert (result.thumb_width, result.thumb_height) == (64, 48)
    assert result.sha256 == hashlib.sha256(result.image).hexdigest()
    assert result.gps is None
    image = decoded(result.image)
    assert image.size == (64, 48)
    assert image.info.get("progressive") or image.info.get("progression")
    assert_close(image.getpixel((5, 5)), RED)
    assert_close(image.getpixel((50, 40)), BLUE)
    assert decoded(result.thumbnail).size == (64, 48)


def test_exif_orientation_is_applied_so_the_photo_comes_out_upright():
    # Stored 60×40 with a red top-left corner; Orientation 6 says "turn 90° clockwise
    # to view", which makes it 40×60 with the red corner at the top right.
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    stored = encode(with_corner((60, 40), RED), "JPEG", quality=95, exif=exif)

    result = process_photo(stored)

    assert (result.width, result.height) == (40, 60)
    image = decoded(result.image)
    assert image.size == (40, 60)
    assert_close(image.getpixel((35, 5)), RED)
    assert_close(image.getpixel((5, 5)), BLUE)
    assert_close(image.getpixel((35, 55)), BLUE)
    assert decoded(result.thumbnail).size == (40, 60)
    # The tag is gone with the rest, so no viewer turns the photo a second time.
    assert len(image.getexif()) == 0


@pytest.mark.parametrize(
    ("gps", "expected"),
    [
        (WROCLAW, (51.1097, 17.0326)),
        (((22.0, 57.0, 6.84), "S", (43.0, 12.0, 37.8), "W"), (-22.9519, -43.2105)),
    ],
    ids=["north-east", "south-west"],
)
def test_gps_is_read_from_the_original_and_all_metadata_is_stripped(gps, expected):
    original = encode(
        with_corner((64, 48), RED),
        "JPEG",
        exif=gps_exif(*gps),
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>secret</x:xmpmeta>",
        comment=b"secret note",
    )
    # Make sure the input really carries what must not come out.
    assert {APP1, COM} <= set(jpeg_markers(original))

    result = process_photo(original)

    assert result.gps == pytest.approx(expected, abs=1e-6)
    assert_pixels_only(result.image)
    assert_pixels_only(result.thumbnail)


def test_an_srgb_profile_is_dropped_with_the_rest():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = encode(
        with_corner((64, 48), RED), "JPEG", icc_profile=srgb, comment=b"secret note"
    )
    assert {APP2, COM} <= set(jpeg_markers(original))

    result = process_photo(original)

    assert_close(decoded(result.image).getpixel((5, 5)), RED)
    assert_pixels_only(result.image)
    assert_pixels_only(result.thumbnail)


def test_a_photo_without_gps_has_none_and_a_zero_fix_counts_as_none():
    plain = encode(Image.new("RGB", (32, 32), RED), "JPEG")
    assert process_photo(plain).gps is None
    no_fix = gps_exif((0.0, 0.0, 0.0), "N", (0.0, 0.0, 0.0), "E")
    assert (
        process_photo(encode(Image.new("RGB", (32, 32), RED), "JPEG", exif=no_fix)).gps
        is None
    )


@pytest.mark.parametrize("mode", ["RGBA", "P"])
def test_transparent_png_is_laid_over_white(mode):
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste(RED + (255,), (0, 0, 20, 40))
    if mode == "P":
        # A palette image with one transparent index, as many PNG tools write them.
        image = image.quantize(colors=4)
        transparent = image.getpixel((30, 30))
        image.info["transparency"] = transparent
        png = encode(image, "PNG", transparency=transparent)
    else:
        png = encode(image, "PNG")

    result = process_photo(png)

    out = decoded(result.image)
    assert out.mode == "RGB"
    assert_close(out.getpixel((5, 20)), RED)
    # The transparent half is black underneath: a plain convert("RGB") would show that.
    assert_close(out.getpixel((35, 20)), WHITE)


def test_png_with_a_wide_gamut_profile_is_converted_to_srgb_and_the_profile_dropped():
    png = encode(
        Image.new("RGB", (32, 32), RED), "PNG", icc_profile=primaries_swapped_profile()
    )

    result = process_photo(png)

    out = decoded(result.image)
    assert_close(out.getpixel((16, 16)), GREEN)
    assert_pixels_only(result.image)


def test_webp_is_decoded_and_its_alpha_flattened():
    opaque = encode(Image.new("RGB", (40, 30), GREEN), "WEBP", lossless=True)
    result = process_photo(opaque)
    assert (result.width, result.height) == (40, 30)
    assert_close(decoded(result.image).getpixel((20, 15)), GREEN)

    clear = encode(Image.new("RGBA", (40, 30), (0, 0, 0, 0)), "WEBP", lossless=True)
    assert_close(decoded(process_photo(clear).image).getpixel((20, 15)), WHITE)


def test_heic_is_decoded_to_jpeg_with_its_gps_read_and_stripped():
    heic = encode(Image.new("RGB", (64, 48), BLUE), "HEIF", exif=gps_exif(*WROCLAW))
    assert heic[4:12] == b"ftypheic"

    result = process_photo(heic)

    assert result.content_type == "image/jpeg"
    assert (result.width, result.height) == (64, 48)
    assert_close(decoded(result.image).getpixel((32, 24)), BLUE, tolerance=60)
    assert result.gps == pytest.approx((51.1097, 17.0326), abs=1e-6)
    assert_pixels_only(result.image)


def test_large_photo_is_downscaled_to_2048_and_its_thumbnail_to_320():
    big = encode(Image.new("RGB", (5000, 3000), GREEN), "JPEG")

    result = process_photo(big)

    assert (result.width, result.height) == (2048, 1229)
    assert (result.thumb_width, result.thumb_height) == (320, 192)
    assert decoded(result.image).size == (2048, 1229)
    assert decoded(result.thumbnail).size == (320, 192)
    assert_close(decoded(result.thumbnail).getpixel((160, 96)), GREEN)


def test_portrait_photo_is_bounded_by_its_longer_side():
    tall = encode(Image.new("RGB", (1000, 3000), GREEN), "PNG")
    result = process_photo(tall, max_side=600, thumb_side=90)
    assert (result.width, result.height) == (200, 600)
    assert (result.thumb_width, result.thumb_height) == (30, 90)


def test_small_photo_is_not_upscaled():
    result = process_photo(encode(Image.new("RGB", (100, 50), RED), "JPEG"))
    assert (result.width, result.height) == (100, 50)
    assert (result.thumb_width, result.thumb_height) == (100, 50)
    assert decoded(result.image).size == (100, 50)


def test_same_photo_gives_the_same_bytes_and_hash():
    photo = encode(noise((64, 64)), "PNG")
    assert process_photo(photo).sha256 == process_photo(photo).sha256


# --- rejections ------------------------------------------------------------------------


def test_html_named_jpg_is_an_unsupported_type():
    with pytest.raises(UnsupportedPhotoType):
        process_photo(b"<!DOCTYPE html><html><script>alert(1)</script></html>")


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_real_images_of_other_formats_are_unsupported(fmt):
    with pytest.raises(UnsupportedPhotoType):
        process_photo(encode(Image.new("RGB", (16, 16), RED), fmt))


def test_truncated_jpeg_is_damaged():
    whole = encode(noise((64, 64)), "JPEG", quality=95)
    with pytest.raises(DamagedPhoto):
        process_photo(whole[: len(whole) * 6 // 10])


def test_truncated_heic_is_damaged():
    whole = encode(noise((64, 64)), "HEIF")
    with pytest.raises(DamagedPhoto):
        process_photo(whole[: len(whole) // 2])


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff" + b"\x00" * 200,
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 200,
        b"RIFF\x24\x00\x00\x00WEBP" + b"\x00" * 200,
        b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200,
    ],
    ids=["jpeg", "png", "webp", "heic"],
)
def test_right_magic_with_garbage_behind_it_is_damaged(data):
    with pytest.raises(DamagedPhoto):
        process_photo(data)


def test_png_with_a_sound_header_and_broken_pixels_is_damaged():
    with pytest.raises(DamagedPhoto):
        process_photo(png_with_garbage_pixels(10, 10))


def test_decompression_bomb_over_twice_pillows_limit_is_too_large():
    # 12 000 × 12 000 = 144 MP, over 2 × 50 MP, in a file of a few kB: Pillow raises.
    bomb = blank_png(12_000, 12_000)
    assert len(bomb) < 100_000
    with pytest.raises(PhotoTooLarge):
        process_photo(bomb)


def test_bomb_in_pillows_warning_band_is_too_large_whatever_the_warning_filters():
    # 8 000 × 8 000 = 64 MP, where Pillow only warns. Outside pytest warnings are not
    # errors; the rejection must not depend on that.
    bomb = blank_png(8_000, 8_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(PhotoTooLarge):
            process_photo(bomb)
    with pytest.raises(PhotoTooLarge):
        process_photo(bomb)


def test_pillows_bomb_warning_becomes_the_rejection_and_is_never_emitted():
    # With our own limit raised past Pillow's, only Pillow's warning stands between a
    # 64 MP file and its decode.
    bomb = blank_png(8_000, 8_000)
    with warnings.catch_warnings(record=True) as emitted:
        warnings.simplefilter("always")
        with pytest.raises(PhotoTooLarge):
            process_photo(bomb, max_pixels=80_000_000)
    assert emitted == []


def test_over_max_pixels_is_refused_from_the_header_before_any_decoding():
    # 7 000 × 6 000 = 42 MP: under Pillow's limit, over ours. The pixel data is garbage,
    # so a decode would have said "damaged" instead.
    with pytest.raises(PhotoTooLarge) as raised:
        process_photo(png_with_garbage_pixels(7_000, 6_000))
    assert "40" in raised.value.body("en")["detail"]
    with pytest.raises(PhotoTooLarge):
        process_photo(png_with_garbage_pixels(100, 100), max_pixels=5_000)


def test_an_absurdly_long_side_is_too_large_even_with_few_pixels():
    with pytest.raises(PhotoTooLarge):
        process_photo(png_with_garbage_pixels(20_001, 1))
    with pytest.raises(PhotoTooLarge):
        process_photo(blank_png(1, 25_000))


def test_rejecting_a_bomb_leaves_the_warning_filters_as_they_were():
    before = list(warnings.filters)
    with pytest.raises(PhotoTooLarge):
        process_photo(blank_png(8_000, 8_000))
    assert warnings.filters == before


def test_photos_are_processed_correctly_in_parallel_threads():
    photo = encode(with_corner((64, 48), RED), "JPEG")
    bomb = blank_png(8_000, 8_000)
    outcomes: list[object] = []

    def work(data: bytes) -> None:
        try:
            outcomes.append(process_photo(data).width)
        except PhotoRejected as error:
            outcomes.append(type(error))

    threads = [
        threading.Thread(target=work, args=(data,)) for data in [photo, bomb] * 4
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == sorted(map(str, [64, PhotoTooLarge] * 4))


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (UnsupportedPhotoType(), 415, "photo-unsupported-type"),
        (DamagedPhoto(), 422, "photo-damaged"),
        (PhotoTooLarge(max_megapixels=40, max_side=20_000), 422, "photo-too-large"),
    ],
)
def test_rejections_have_a_status_a_stable_code_and_texts_in_every_language(
    error, status, code
):
    assert isinstance(error, PhotoRejected)
    assert (error.status_code, error.code) == (status, code)
    details = set()
    for lang in LANGUAGES:
        body = error.body(lang)
        assert body["title"]
        assert body["type"] == f"urn:mam:problem:{code}"
        assert "{" not in body["detail"]
        details.add(body["detail"])
    assert len(details) == len(LANGUAGES)


def test_a_rejection_can_name_the_file_it_is_about():
    error = UnsupportedPhotoType().named("IMG_0001.jpg")
    for lang in LANGUAGES:
        assert "IMG_0001.jpg" in error.body(lang)["detail"]
    assert "IMG" not in UnsupportedPhotoType().body("en")["detail"]
    long = PhotoTooLarge(max_megapixels=40, max_side=20_000, name="x" * 10_000)
    assert "x" * 100 in long.body("pl")["detail"]
    assert "x" * 101 not in long.body("pl")["detail"]


# --- storage ---------------------------------------------------------------------------


def files_under(root: Path) -> list[str]:
    """Every file below `root`, hidden temporary ones included."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_local_disk_storage_is_a_photo_storage(tmp_path: Path):
    store: PhotoStorage = LocalDiskStorage(tmp_path)
    assert store


async def test_put_get_delete_round_trip(tmp_path: Path):
    store = LocalDiskStorage(tmp_path / "photos")
    key = "reports/3f2a9c.jpg"

    assert await store.get(key) is None
    await store.put(key, b"first", "image/jpeg")
    assert await store.get(key) == b"first"
    await store.put(key, b"second", "image/jpeg")
    assert await store.get(key) == b"second"
    await store.delete(key)
    assert await store.get(key) is None
    await store.delete(key)  # deleting what is gone is no error


async def test_files_are_sharded_and_no_temporary_file_is_left(tmp_path: Path):
    store = LocalDiskStorage(tmp_path)
    await store.put("reports/3f2a9c.jpg", b"photo", "image/jpeg")
    await store.put("ab.jpg", b"flat", "image/jpeg")

    assert files_under(tmp_path) == ["ab/ab.jpg", "reports/3f/3f2a9c.jpg"]


async def test_put_syncs_the_file_before_the_rename_and_the_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(
            "fsync-folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file"
        )
        real_fsync(fd)

    def replace(source, target) -> None:
        events.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store = LocalDiskStorage(tmp_path)
    await store.put("x/y/abc.jpg", b"photo", "image/jpeg")

    # Each new folder (x, x/y, x/y/ab) is synced into its parent first.
    assert events == ["fsync-folder"] * 3 + ["fsync-file", "replace", "fsync-folder"]

    events.clear()
    await store.put("x/y/abd.jpg", b"photo", "image/jpeg")
    assert events == ["fsync-file", "replace", "fsync-folder"]


async def test_a_failed_write_keeps_the_old_photo_and_leaves_no_debris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    store = LocalDiskStorage(tmp_path)
    await store.put("abc.jpg", b"old", "image/jpeg")

    def failing_replace(source, target) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        await store.put("abc.jpg", b"new", "image/jpeg")

    assert await store.get("abc.jpg") == b"old"
    assert files_under(tmp_path) == ["ab/abc.jpg"]


@pytest.mark.parametrize(
    "key",
    [
        "../outside.jpg",
        "reports/../../outside.jpg",
        "..",
        "/etc/passwd",
        "a/./b.jpg",
        "a//b.jpg",
        "reports/",
        "",
        "a\\..\\b.jpg",
        "spaced name.jpg",
        "zdjęcie.jpg",
        "nul\x00.jpg",
        "a" * 513,
    ],
)
async def test_keys_that_could_leave_the_root_are_refused(tmp_path: Path, key: str):
    store = LocalDiskStorage(tmp_path / "root")
    with pytest.raises(ValueError, match="invalid photo key"):
        await store.put(key, b"x", "image/jpeg")
    with pytest.raises(ValueError, match="invalid photo key"):
        await store.get(key)
    with pytest.raises(ValueError, match="invalid photo key"):
        await store.delete(key)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("data", "cost"),
    [
        # A few kB that unpack to 36 million pixels: counted at full size.
        (blank_png(6000, 6000), 36_000_000),
        # A JPEG is decoded at a reduced scale, to twice the target side at least.
        (encode(noise((5000, 4000)), "JPEG"), 4 * 2048 * 2048),
        (encode(noise((640, 480)), "JPEG"), 640 * 480),
        # No photo, or one refused at its header, costs nothing.
        (b"not a photo at all", 0),
        (blank_png(9000, 9000), 0),
    ],
)
def test_the_decode_cost_is_read_from_the_header(data, cost):
    assert decode_cost(data, max_side=2048, max_pixels=40_000_000) == cost


async def test_large_decodes_take_turns_and_small_ones_go_side_by_side():
    budget = PixelBudget(40)
    names = ("big", "other big", "small")
    inside = {name: asyncio.Event() for name in names}
    release = {name: asyncio.Event() for name in names}

    async def decode(name: str, pixels: int) -> None:
        async with budget.hold(pixels):
            inside[name].set()
            await release[name].wait()

    async def entered(name: str) -> None:
        await asyncio.wait_for(inside[name].wait(), timeout=5)

    big = asyncio.create_task(decode("big", 30))
    other = asyncio.create_task(decode("other big", 30))
    small = asyncio.create_task(decode("small", 10))
    await entered("big")
    await entered("small")
    assert not inside["other big"].is_set()  # it waits for the first big one
    assert budget.used == 40
    release["big"].set()
    await entered("other big")
    release["small"].set()
    release["other big"].set()
    await asyncio.gather(big, other, small)
    assert budget.used == 0
    # One larger than the whole budget still runs, alone.
    async with budget.hold(100):
        assert budget.used == 40


# --- decoding at reduced scale -----------------------------------------------------------


def test_a_large_jpeg_is_decoded_in_draft_mode_yet_stored_at_2048_upright_with_its_gps(
    monkeypatch,
):
    decoded_sizes = []
    load = JpegImagePlugin.JpegImageFile.load

    def spy(self):
        decoded_sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)

    result = process_photo(camera_jpeg((5000, 4000)))

    # Decoded at half scale (5 MP), not at 20 MP.
    assert set(decoded_sizes) == {(2500, 2000)}
    # Upright: 4000 wide once turned, so 1638 × 2048, the red box now at the top right.
    assert (result.width, result.height) == (1638, 2048)
    image = decoded(result.image)
    assert image.size == (1638, 2048)
    assert_close(image.getpixel((1638 - 100, 100)), RED)
    assert_close(image.getpixel((100, 100)), BLUE)
    assert_close(image.getpixel((1638 - 100, 2048 - 100)), BLUE)
    assert (result.thumb_width, result.thumb_height) == (256, 320)
    assert result.gps == pytest.approx((51.1097, 17.0326), abs=1e-6)
    assert_pixels_only(result.image)


def test_a_jpeg_smaller_than_twice_the_target_is_decoded_at_full_size(monkeypatch):
    decoded_sizes = []
    load = JpegImagePlugin.JpegImageFile.load

    def spy(self):
        decoded_sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)

    result = process_photo(camera_jpeg((4000, 3000)))

    # Half scale would be 2000 px, under the 2048 stored.
    assert set(decoded_sizes) == {(4000, 3000)}
    assert (result.width, result.height) == (1536, 2048)


def test_the_decode_cost_reads_the_header_of_a_file_as_of_bytes():
    data = encode(with_corner((3000, 2000), RED), "PNG")
    file = io.BytesIO(data)
    file.seek(100)
    assert decode_cost(file, max_side=2048, max_pixels=40_000_000) == 6_000_000
    assert decode_cost(data, max_side=2048, max_pixels=40_000_000) == 6_000_000
    assert decode_cost(io.BytesIO(b"no photo"), max_side=2048, max_pixels=10) == 0
