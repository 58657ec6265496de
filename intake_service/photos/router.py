"""GET /v1/photos/{id}: a report's photo or its thumbnail; GET /v1/photos/{id}/signed: the
same through a time-limited link signed for a CRM. Both pass the bytes on, or, with an S3
store and presigned URLs on, send the client to the store with a 307; neither serves a
photo the city's moderators hid (operators see those through `serve_photo`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Header, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic.json_schema import SkipJsonSchema

from intake_service.deps import SettingsDep
from intake_service.photos import service
from intake_service.photos.dependencies import PhotosDep
from intake_service.photos.exceptions import (
    PhotoLinkInvalid,
    PhotoNotFound,
    PhotoStoreUnavailable,
)
from shared.deps import SessionDep
from shared.errors import AppError, ValidationFailed, problem_responses
from shared.i18n import N_
from shared.routes import Router
from shared.signing import UrlSigner, photo_link_path

router = Router(prefix="/v1/photos", tags=["photos"])

# A photo never changes under its id, so caches may keep it, but only for minutes: one the
# moderators hide (a face, a number plate) must leave shared caches soon after. A client
# holding it asks again with its ETag and gets a 304 of a few bytes.
CACHE_CONTROL = "public, max-age=300"


class PhotoHidden(AppError):
    """A photo the city's moderators hid: not served, until they show it again.

    404 rather than 410: it may come back. Never cached, so that it comes back at once.
    """

    status_code = 404
    code = "photo-hidden"
    title = N_("Photo hidden")
    detail = N_(
        "The city's moderators hid this photo (for example, it showed a face or a number "
        "plate)."
    )

    def headers(self) -> dict[str, str]:
        return {"Cache-Control": "no-store"}


REDIRECT = {
    "description": "With `INTAKE_S3_PRESIGNED_URL_SECONDS` set (an S3 photo store): the "
    "photo is at the time-limited URL in `Location`, presigned for the object store, "
    "which answers with the JPEG. The checks above come first: a missing photo or a "
    "refused link is never redirected.",
    "headers": {
        "Location": {
            "description": "The presigned GET URL, valid as long as the setting says.",
            "schema": {
                "type": "string",
                "format": "uri",
                "example": "https://photos.example.org/mam/reports/"
                "0b9d5c1e6a514a8e9d1f2f6f0c2f9a10.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                "&X-Amz-Expires=300&X-Amz-Signature=5f2c…",
            },
        },
        "Cache-Control": {
            "description": "`private`, for at most half the URL's life.",
            "schema": {"type": "string", "example": "private, max-age=150"},
        },
    },
}


@router.get(
    "/{photo_id}",
    summary="A report's photo",
    description="The photo as stored: upright, JPEG, at most 2048 px on its longer side, "
    "without any metadata (no EXIF, GPS or camera data). `?size=thumb` gives the thumbnail "
    "(at most 320 px). Answers carry a strong `ETag` and `Cache-Control`; send "
    "`If-None-Match` to get 304 when the copy you hold is current. Where photos are in "
    "an object store that hands out presigned URLs, the answer is a 307 to the store "
    "instead: follow redirects. A photo the city's moderators hid is a 404 "
    "`photo-hidden` until they show it again.",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "The JPEG.",
            "headers": {
                "ETag": {
                    "description": "Strong validator of this variant.",
                    "schema": {"type": "string"},
                },
                "Cache-Control": {
                    "description": f"`{CACHE_CONTROL}`",
                    "schema": {"type": "string", "example": CACHE_CONTROL},
                },
            },
        },
        304: {"description": "The copy named by `If-None-Match` is current."},
        307: REDIRECT,
        **problem_responses(
            PhotoNotFound, PhotoHidden, ValidationFailed, PhotoStoreUnavailable
        ),
    },
)
async def read_photo(
    request: Request,
    session: SessionDep,
    photos: PhotosDep,
    settings: SettingsDep,
    photo_id: uuid.UUID,
    size: Annotated[
        Literal["full", "thumb"],
        Query(description="`thumb` for the thumbnail."),
    ] = "full",
    if_none_match: Annotated[
        str | SkipJsonSchema[None],
        Header(description="ETag of a copy the client holds."),
    ] = None,
) -> Response:
    return await serve_photo(
        request, session, photos, settings, photo_id, size, if_none_match
    )


async def serve_photo(
    request: Request,
    session: SessionDep,
    photos: PhotosDep,
    settings: SettingsDep,
    photo_id: uuid.UUID,
    size: str,
    if_none_match: str | None,
    *,
    hidden_too: bool = False,
    cache_control: str = CACHE_CONTROL,
) -> Response:
    """The photo's bytes (or a redirect to them), after the checks; `hidden_too` serves a
    photo the moderators hid as well (for operators, with their own `cache_control`)."""
    photo = await service.get_photo(session, photo_id)
    # Nothing else is read from the database; the file is read with no transaction open.
    await session.commit()
    if photo is None:
        raise PhotoNotFound()
    if photo.hidden_at is not None and not hidden_too:
        raise PhotoHidden()
    thumbnail = size == "thumb"
    etag = f'"{photo.sha256[:32]}{"-thumb" if thumbnail else ""}"'
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{photo.id}{"-thumb" if thumbnail else ""}.jpg"',
    }
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    # HEAD is answered here: a presigned URL is signed for GET only.
    if request.method == "GET":
        url = await photos.link(photo, thumbnail=thumbnail)
        if url is not None:
            # Kept by the client for half the URL's life, so that a cached redirect never
            # leads to an expired URL; by no shared cache.
            age = settings.s3_presigned_url_seconds // 2
            return RedirectResponse(
                url,
                status_code=307,
                headers={"Cache-Control": f"private, max-age={age}"},
            )
    data = await photos.read(photo, thumbnail=thumbnail)
    if data is None:
        raise PhotoNotFound()
    return Response(data, media_type=photo.content_type, headers=headers)


# HEAD, for caches that check before they fetch; the same operation, so not listed again.
router.add_api_route(
    "/{photo_id}", read_photo, methods=["HEAD"], include_in_schema=False
)


@router.get(
    "/{photo_id}/signed",
    summary="A report's photo through a signed link",
    description="The photo as `GET /v1/photos/{id}` gives it, for a link the CRM adapter "
    "handed to a city unit's CRM: `expires` (Unix seconds) and `signature` (hex "
    "HMAC-SHA256 of the path and the expiry, with the key intake shares with the adapter). "
    "A wrong, tampered or expired link is refused with 403, a photo the city's "
    "moderators hid with 404 `photo-hidden`. Example: "
    "`/v1/photos/0b9d5c1e-6a51-4a8e-9d1f-2f6f0c2f9a10/signed?expires=1796000000"
    "&signature=5f2c…`.",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "The JPEG.",
        },
        304: {"description": "The copy named by `If-None-Match` is current."},
        307: REDIRECT,
        **problem_responses(
            PhotoLinkInvalid,
            PhotoNotFound,
            PhotoHidden,
            ValidationFailed,
            PhotoStoreUnavailable,
        ),
    },
)
async def read_signed_photo(
    request: Request,
    session: SessionDep,
    photos: PhotosDep,
    settings: SettingsDep,
    photo_id: uuid.UUID,
    expires: Annotated[
        int,
        Query(ge=0, le=2**40, description="When the link ends (Unix seconds)."),
    ],
    signature: Annotated[
        str,
        Query(max_length=128, description="The link's signature (hex)."),
    ],
    size: Annotated[
        Literal["full", "thumb"],
        Query(description="`thumb` for the thumbnail."),
    ] = "full",
    if_none_match: Annotated[
        str | SkipJsonSchema[None],
        Header(description="ETag of a copy the client holds."),
    ] = None,
) -> Response:
    signer = UrlSigner(settings.photo_url_secrets())
    if not signer.verify(
        photo_link_path(photo_id), expires=expires, signature=signature
    ):
        raise PhotoLinkInvalid()
    return await serve_photo(
        request, session, photos, settings, photo_id, size, if_none_match
    )


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match asks for."""
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in tags
