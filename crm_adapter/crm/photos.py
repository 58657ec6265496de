"""Links to a report's photos for the CRM: intake's URLs, signed and time-limited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlencode

from shared.signing import UrlSigner, photo_link_path


class PhotoLinks:
    def __init__(self, *, intake_url: str, secret: str, ttl: dt.timedelta) -> None:
        self._base = intake_url.rstrip("/")
        self._signer = UrlSigner([secret])
        self._ttl = ttl

    def urls(
        self, photo_ids: Sequence[str], *, now: dt.datetime | None = None
    ) -> list[str]:
        """One link per photo, in order; each works until the time-to-live runs out."""
        links = []
        for photo_id in photo_ids:
            path = photo_link_path(photo_id)
            query = self._signer.query(path, ttl=self._ttl, now=now)
            links.append(f"{self._base}{path}?{urlencode(query)}")
        return links
