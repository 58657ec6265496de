"""What the Open311 POSTs share: their form as sent, and the client's `api_key`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from intake_service.config import Settings
from intake_service.open311.exceptions import (
    ApiKeyRequired,
    Open311Invalid,
    OperatorKeyNotApiKey,
)
from intake_service.open311.models import OPEN311_KEYS
from shared.i18n import N_
from shared.operators import KEY_PREFIX, hash_key


@dataclass
class SentForm:
    """The form's fields as the request sent them: plain fields (the first of each name),
    `attribute[CODE]` values, `media_url`s and files."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    media_urls: list[str] = field(default_factory=list)
    files: list[UploadFile] = field(default_factory=list)

    @classmethod
    def of(cls, form: FormData) -> SentForm:
        sent = cls()
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                sent.files.append(value)
                continue
            if name.startswith("attribute[") and "]" in name:
                code = name[len("attribute[") : name.index("]")]
                sent.attributes.setdefault(code, []).append(value)
            elif name in ("media_url", "media_url[]"):
                if value.strip():
                    sent.media_urls.append(value.strip())
            else:
                sent.fields.setdefault(name, value)
        sent._refuse_nul()
        return sent

    def text(self, name: str) -> str:
        """A plain field, stripped; empty when left out (Open311: empty is absent)."""
        return self.fields.get(name, "").strip()

    def _refuse_nul(self) -> None:
        """PostgreSQL stores no NUL character: a field holding one is refused here,
        before any query (as the resident API refuses it)."""
        named = [
            *self.fields.items(),
            *(
                (f"attribute[{code}]", v)
                for code, vs in self.attributes.items()
                for v in vs
            ),
            *(("media_url", url) for url in self.media_urls),
        ]
        for name, value in named:
            if "\x00" in value or "\x00" in name:
                raise Open311Invalid(
                    N_("{field}: the text must not contain NUL characters."),
                    field=name.replace("\x00", "\\0"),
                )


async def check_api_key(session: AsyncSession, settings: Settings, key: str) -> str:
    """The client's name for a valid `api_key`; 403 otherwise."""
    if not key:
        raise ApiKeyRequired()
    client = await OPEN311_KEYS.keys(session, settings.open311_api_keys).find(
        hash_key(key)
    )
    if client is None:
        if key.startswith(KEY_PREFIX):
            raise OperatorKeyNotApiKey()
        raise ApiKeyRequired()
    return client.name
