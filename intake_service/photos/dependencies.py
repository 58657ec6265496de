"""The app's photo store for a request (Annotated alias)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from intake_service.photos.service import Photos


async def get_photos(request: Request) -> Photos:
    photos: Photos = request.app.state.photos
    return photos


PhotosDep = Annotated[Photos, Depends(get_photos)]
