"""The body of `POST /v1/reports`: JSON, or multipart with the JSON and photos."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from intake_service.photos.upload import REPORT_PART, ReportForm, read_report_form
from intake_service.reports.openapi import in_megabytes, setting_default
from intake_service.reports.schemas import ReportCreate
from shared.errors import AppError
from shared.guards import MAX_BODY_BYTES, read_body
from shared.i18n import N_
from shared.response_docs import reference


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported-media-type"
    title = N_("Unsupported content type")
    detail = N_(
        "Send the report as application/json or, with photos, as multipart/form-data."
    )


async def read_report_request(
    request: Request, *, max_photos: int, max_photo_bytes: int
) -> ReportForm:
    """The report's JSON and its photos, read by the body's declared type."""
    media_type = request.headers.get("content-type", "").partition(";")[0]
    media_type = media_type.strip().lower()
    if media_type == "multipart/form-data":
        return await read_report_form(
            request.headers,
            request.stream(),
            max_photos=max_photos,
            max_photo_bytes=max_photo_bytes,
        )
    # A client that sends JSON without saying so is served as before.
    if media_type in ("", "application/json") or media_type.endswith("+json"):
        return ReportForm(report=await read_body(request, MAX_BODY_BYTES))
    raise UnsupportedMediaType()


def parse_report(form: ReportForm) -> ReportCreate:
    """The report's fields, checked strictly; field errors point into the `report` part."""
    try:
        return ReportCreate.model_validate_json(form.report)
    except ValidationError as invalid:
        prefix: tuple[str, ...] = ("body", REPORT_PART) if form.multipart else ("body",)
        errors = [
            {**error, "loc": (*prefix, *error["loc"])} for error in invalid.errors()
        ]
        raise RequestValidationError(errors) from None


def report_request_body() -> dict[str, Any]:
    """The OpenAPI request body: the JSON alone, or multipart with photos."""
    schema = reference(ReportCreate)  # `document_model` makes it a component
    example = ReportCreate.model_json_schema()["examples"][0]
    max_photos = setting_default("photo_max_count")
    max_mb = in_megabytes(setting_default("photo_max_bytes"))
    return {
        "required": True,
        "content": {
            "application/json": {"schema": schema, "example": example},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [REPORT_PART],
                    "additionalProperties": False,
                    "properties": {
                        # A part sent as JSON (`encoding`): its schema is the report's.
                        REPORT_PART: schema
                        | {
                            "description": "The report as JSON (the same as the "
                            "application/json body)."
                        },
                        "photos": {
                            "type": "array",
                            "maxItems": max_photos,
                            "items": {"type": "string", "format": "binary"},
                            "description": f"0 to {max_photos} photos: JPEG, PNG, WebP "
                            f"or HEIC, at most {max_mb} MB each.",
                        },
                    },
                },
                "encoding": {
                    REPORT_PART: {"contentType": "application/json"},
                    "photos": {
                        "contentType": "image/jpeg, image/png, image/webp, image/heic"
                    },
                },
                "example": {REPORT_PART: example, "photos": []},
            },
        },
    }
