"""GET /v1/photos/{id}: a report's photo or its thumbnail."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from intake_service.deps import PhotosDep
from intake_service.photos import service
from intake_service.photos.exceptions import PhotoNotFound
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses

router = APIRouter(prefix="/v1/photos", tags=["photos"])

# A photo never changes under its id, so caches may keep it; a day, not forever, so that a
# photo taken down (a face, a number plate) leaves shared caches soon after.
CACHE_CONTROL = "public, max-age=86400"


@router.get(
    "/{photo_id}",
    summary="A report's photo",
    description="The photo as stored: upright, JPEG, at most 2048 px on its longer side, "
    "without any metadata (no EXIF, GPS or camera data). `?size=thumb` gives the thumbnail "
    "(at most 320 px). Answers carry a strong `ETag` and `Cache-Control`; send "
    "`If-None-Match` to get 304 when the copy you hold is current.",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "The JPEG.",
            "headers": {
                "ETag": {"description": "Strong validator of this variant."},
                "Cache-Control": {"description": f"`{CACHE_CONTROL}`"},
            },
        },
        304: {"description": "The copy named by `If-None-Match` is current."},
        **problem_responses(PhotoNotFound, ValidationFailed),
    },
)
async def read_photo(
    session: SessionDep,
    photos: PhotosDep,
    photo_id: uuid.UUID,
    size: Annotated[
        Literal["full", "thumb"],
        Query(description="`thumb` for the thumbnail."),
    ] = "full",
    if_none_match: Annotated[
        str | None,
        Header(description="ETag of a copy the client holds."),
    ] = None,
) -> Response:
    photo = await service.get_photo(session, photo_id)
    # Nothing else is read from the database; the file is read with no transaction open.
    await session.commit()
    if photo is None:
        raise PhotoNotFound()
    thumbnail = size == "thumb"
    etag = f'"{photo.sha256[:32]}{"-thumb" if thumbnail else ""}"'
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{photo.id}{"-thumb" if thumbnail else ""}.jpg"',
    }
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    data = await photos.read(photo, thumbnail=thumbnail)
    if data is None:
        raise PhotoNotFound()
    return Response(data, media_type=photo.content_type, headers=headers)


# HEAD, for caches that check before they fetch; the same operation, so not listed again.
router.add_api_route(
    "/{photo_id}", read_photo, methods=["HEAD"], include_in_schema=False
)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match asks for."""
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in tags
