"""OpenAPI texts of the report routes that name limits or show long examples.

The limits they write come from the code that enforces them: the intake settings' default
values (photos per report, their sizes) and the reports' and idempotency's constants, so
that the documentation and the behaviour cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from intake_service.config import Settings
from intake_service.idempotency import service as idempotency
from intake_service.reports.service import DUPLICATE_WINDOW, MAX_DUPLICATES


def setting_default(name: str) -> Any:
    """An intake setting's default value: the limit the API's texts document."""
    return Settings.model_fields[name].default


def in_megabytes(size: int) -> str:
    """A size in bytes as the API's texts write it (15728640: `15`)."""
    return f"{size / (1024 * 1024):g}"


CREATE_DESCRIPTION = (
    "Stores a report of something broken at a position. With a valid bearer token "
    "the report is named and the resident is notified of every status change once their "
    "e-mail address is verified (before that, of none); without one it is anonymous. The "
    "report is handed to the CRM in the background: it starts as `received` "
    "and becomes `submitted` once the responsible unit's CRM has the case.\n\n"
    "**Photos.** Send `multipart/form-data` with a `report` part (the same JSON) and up to "
    f"{setting_default('photo_max_count')} `photos` files: JPEG, PNG, WebP or HEIC "
    "(recognised by their content, not their name), each at most "
    f"{in_megabytes(setting_default('photo_max_bytes'))} MB, "
    f"{in_megabytes(setting_default('photo_request_max_bytes'))} MB in all. They are stored "
    f"upright, scaled to at most {setting_default('photo_max_side')} px, re-encoded as JPEG "
    "and stripped of all metadata (EXIF, GPS, camera). A report without "
    "`location` takes the first photo's GPS position and says so in `location_source`.\n\n"
    "**Retries.** Send an `Idempotency-Key` (16-255 of `A-Za-z0-9_-`, e.g. a UUID made when "
    "the resident pressed *send*) so that retries on a bad network never file twice: a retry "
    "with the same key and body (photos included) gets the first answer (with "
    "`Idempotent-Replayed: true`) and creates nothing; the same key with another body is a "
    "422; while the first is still running, a 409. Keys are kept for "
    f"{idempotency.RETENTION.days} days per account (or for anonymous reports).\n\n"
    "**Limits.** Reports are limited per client address (IPv6 per /64) and per account, or "
    "per device when not signed in and the app sends `X-Device-Id`; photos per client "
    "address. Over a limit the answer is 429 with `Retry-After` (seconds) and nothing is "
    "stored."
)

NEARBY_DESCRIPTION = (
    "Before filing: open reports of the same category within the category's "
    "duplicate radius (250 m unless the category says otherwise) from the last "
    f"{DUPLICATE_WINDOW.days} days, nearest first, at most "
    f'{MAX_DUPLICATES}. The app can offer "me too" instead of a second report.'
)
