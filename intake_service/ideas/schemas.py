"""API shapes of ideas."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake_service.categories.schemas import NamedRef
from intake_service.ideas.models import Idea
from intake_service.reports.schemas import Location
from shared.text import NO_NUL, NOT_BLANK


class IdeaTopic(StrEnum):
    APP = "app"
    """About this app."""
    CITY = "city"
    """About the city."""


class IdeaCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "Więcej ławek wzdłuż bulwaru nad Odrą.",
                    "topic": "city",
                    "category": "damaged_bench",
                    "location": {"lat": 51.1097, "lon": 17.0326},
                },
                {"text": "Tryb ciemny w aplikacji.", "topic": "app"},
            ]
        },
    )

    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
        NO_NUL,
        NOT_BLANK,
    ] = Field(description="The idea, 1 to 2000 characters.")
    topic: IdeaTopic | None = Field(
        default=None, description="`app` (this app) or `city`."
    )
    category: (
        Annotated[str, StringConstraints(min_length=1, max_length=50), NO_NUL] | None
    ) = Field(
        default=None, description="A related category code from GET /v1/categories."
    )
    location: Location | None = Field(
        default=None, description="Where it applies; inside the city."
    )


class IdeaCreated(BaseModel):
    id: uuid.UUID
    created_at: dt.datetime


class IdeaRead(BaseModel):
    """An idea as operators see it: never who sent it."""

    id: uuid.UUID
    text: str
    topic: IdeaTopic | None
    category: NamedRef | None
    location: Location | None
    created_at: dt.datetime

    @classmethod
    def of(cls, idea: Idea, lang: str) -> Self:
        return cls(
            id=idea.id,
            text=idea.text,
            topic=IdeaTopic(idea.topic) if idea.topic else None,
            category=NamedRef.of(idea.category, lang) if idea.category else None,
            location=Location(lat=idea.lat, lon=idea.lon)
            if idea.lat is not None and idea.lon is not None
            else None,
            created_at=idea.created_at,
        )


class IdeaPage(BaseModel):
    items: list[IdeaRead] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
