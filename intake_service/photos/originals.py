"""GET /v1/operator/photos/{id}/original: a photo as it was before its faces were blurred,
for operators, where the city keeps such copies (`INTAKE_PHOTO_KEEP_ORIGINALS`).

The copy lies in the photo store under a folder of its own; the public and CRM endpoints
never read it, and this one passes its bytes through intake (never a presigned URL of the
store) to a `read` operator key only. Each read is logged with the key's name.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import Response

from intake_service.operators.dependencies import OperatorReadDep
from intake_service.photos import service
from intake_service.photos.dependencies import PhotosDep
from intake_service.photos.exceptions import (
    PhotoNotFound,
    PhotoOriginalNotKept,
    PhotoStoreUnavailable,
)
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses
from shared.operators import OperatorNotAuthenticated
from shared.routes import Router

logger = logging.getLogger(__name__)

router = Router(prefix="/v1/operator/photos", tags=["operator"])

FACES_HEADER = "X-Faces-Blurred"


@router.get(
    "/{photo_id}/original",
    summary="A photo before its faces were blurred",
    description="The photo as the resident took it: upright and without metadata (no "
    "EXIF, GPS or camera data), at the size the photo is stored, but with the faces that "
    "every other copy has blurred. Kept only where `INTAKE_PHOTO_KEEP_ORIGINALS` is on "
    "(404 `photo-original-not-kept` otherwise); deleted with the photo. Never cached. "
    "`X-Faces-Blurred` tells how many faces the stored photo has blurred. Needs a `read` "
    "operator key; each read is logged with the key's name.",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "The JPEG.",
            "headers": {
                FACES_HEADER: {
                    "description": "Faces found and blurred in the stored photo.",
                    "schema": {"type": "integer", "example": 2},
                },
                "Cache-Control": {
                    "description": "`no-store`: faces are not to stay in any cache.",
                    "schema": {"type": "string", "example": "no-store"},
                },
            },
        },
        **problem_responses(
            OperatorNotAuthenticated,
            PhotoNotFound,
            PhotoOriginalNotKept,
            ValidationFailed,
            PhotoStoreUnavailable,
        ),
    },
)
async def read_photo_original(
    session: SessionDep,
    photos: PhotosDep,
    operator: OperatorReadDep,
    photo_id: uuid.UUID,
) -> Response:
    photo, data = await service.read_original(session, photos, photo_id)
    logger.info(
        "photos.original_read",
        extra={"photo_id": str(photo.id), "operator": operator.name},
    )
    headers = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{photo.id}-original.jpg"',
    }
    if photo.faces_blurred is not None:
        headers[FACES_HEADER] = str(photo.faces_blurred)
    return Response(data, media_type="image/jpeg", headers=headers)
