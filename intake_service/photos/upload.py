"""Reading a report with photos from a `multipart/form-data` body while it streams in.

Starlette's multipart parser does the parsing; this one adds what a report needs on top: only
a `report` part and up to N `photos`, a per-photo size limit enforced as the bytes arrive (a
photo over it is refused with 413 before the rest of the body is read) and a SHA-256 of each
upload for idempotent retries. Photo bytes spool to temporary files (memory up to 1 MB, then
disk), never into one in-memory buffer of the whole request.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from intake_service.photos.exceptions import PhotoRejected
from shared.errors import AppError, ValidationFailed
from shared.i18n import N_, Message, Np_

REPORT_PART = "report"
PHOTOS_PART = "photos"
MAX_REPORT_PART_BYTES = 64 * 1024
"""The report's JSON is at most a few kilobytes (a description is 2000 characters)."""


class MalformedForm(AppError):
    status_code = 400
    code = "malformed-form"
    title = N_("Malformed form data")
    detail = N_("The multipart/form-data body cannot be read.")


class PhotoFileTooLarge(PhotoRejected):
    status_code = 413
    code = "photo-file-too-large"
    title = N_("Photo file too large")
    detail = N_("A photo may be at most {max_mb} MB.")


def _part_error(
    name: str, code: str, message: Message, **params: Any
) -> ValidationFailed:
    return ValidationFailed(
        errors=[{"field": name, "in": "body", "code": code, "message": message}],
        **params,
    )


def too_many_photos(max_photos: int) -> ValidationFailed:
    return _part_error(
        PHOTOS_PART,
        "too_many_photos",
        Np_("At most {count} photo per report.", "At most {count} photos per report."),
        count=max_photos,
    )


def _unexpected_part(name: str) -> ValidationFailed:
    return _part_error(
        name[:100],
        "extra_forbidden",
        N_("Unknown form part: only 'report' and 'photos' are allowed."),
    )


def _photo_not_a_file() -> ValidationFailed:
    return _part_error(
        PHOTOS_PART,
        "file_expected",
        N_("A photo must be sent as a file."),
    )


def _report_missing() -> ValidationFailed:
    return _part_error(
        REPORT_PART,
        "missing",
        N_("The 'report' part with the report's JSON is missing."),
    )


def location_missing() -> ValidationFailed:
    return _part_error(
        "location",
        "missing",
        N_(
            "Give the location, or attach as the first photo one that has its GPS position."
        ),
    )


@dataclass
class Upload:
    """One photo as received: the client's file name (for messages only) and its bytes."""

    filename: str | None
    file: UploadFile
    size: int
    sha256: str

    def read(self) -> bytes:
        """All the bytes (blocking: call it in a worker thread)."""
        self.file.file.seek(0)
        return self.file.file.read()


@dataclass
class ReportForm:
    report: bytes
    photos: list[Upload] = field(default_factory=list)
    multipart: bool = False

    async def close(self) -> None:
        for photo in self.photos:
            await photo.file.close()


class _ReportFormParser(MultiPartParser):
    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_photos: int,
        max_photo_bytes: int,
    ) -> None:
        # A `report` sent as a file (a JSON blob) counts as a file too.
        super().__init__(
            headers,
            stream,
            max_files=max_photos + 1,
            max_fields=1,
            max_part_size=MAX_REPORT_PART_BYTES,
        )
        self.max_photos = max_photos
        self.max_photo_bytes = max_photo_bytes
        self.photo_count = 0
        self.report_seen = False
        self.report_bytes: bytes | None = None
        self.uploads: list[Upload] = []
        self._size = 0
        self._hash = hashlib.sha256()

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._size = 0
        self._hash = hashlib.sha256()

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        part = self._current_part
        if part.field_name == PHOTOS_PART:
            if part.file is None:
                raise _photo_not_a_file()
            self.photo_count += 1
            if self.photo_count > self.max_photos:
                raise too_many_photos(self.max_photos)
        elif part.field_name == REPORT_PART:
            if self.report_seen:
                raise _unexpected_part(REPORT_PART)
            self.report_seen = True
        else:
            raise _unexpected_part(part.field_name)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current_part
        self._size += end - start
        if part.field_name == PHOTOS_PART:
            if self._size > self.max_photo_bytes:
                assert part.file is not None
                megabytes = round(self.max_photo_bytes / (1024 * 1024), 1)
                raise PhotoFileTooLarge(part.file.filename, max_mb=f"{megabytes:g}")
            self._hash.update(data[start:end])
        elif self._size > MAX_REPORT_PART_BYTES:
            raise _report_too_large()
        super().on_part_data(data, start, end)

    def on_part_end(self) -> None:
        part = self._current_part
        if part.field_name == REPORT_PART and part.file is None:
            # The bytes as sent: Starlette would read bytes that are not UTF-8 as Latin-1,
            # and a wrongly encoded description would be stored garbled, not refused.
            self.report_bytes = bytes(part.data)
        super().on_part_end()
        if part.field_name == PHOTOS_PART and part.file is not None:
            self.uploads.append(
                Upload(
                    filename=part.file.filename,
                    file=part.file,
                    size=self._size,
                    sha256=self._hash.hexdigest(),
                )
            )


def _report_too_large() -> ValidationFailed:
    return _part_error(
        REPORT_PART,
        "string_too_long",
        N_("The 'report' part may be at most 64 KB."),
    )


async def read_report_form(
    headers: Headers,
    stream: AsyncGenerator[bytes, None],
    *,
    max_photos: int,
    max_photo_bytes: int,
) -> ReportForm:
    """The `report` JSON and the photos of a multipart body, checked while it streams."""
    parser = _ReportFormParser(
        headers, stream, max_photos=max_photos, max_photo_bytes=max_photo_bytes
    )
    try:
        form = await parser.parse()
    except MultiPartException:
        raise MalformedForm() from None
    report: Any = form.get(REPORT_PART)
    result = ReportForm(report=b"", photos=parser.uploads, multipart=True)
    if report is None:
        await result.close()
        raise _report_missing()
    if isinstance(report, UploadFile):
        result.report = await report.read()
        await report.close()
    else:
        assert parser.report_bytes is not None
        result.report = parser.report_bytes
    return result
