"""Public API shapes of accounts and tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from shared.text import NO_NUL

Language = Literal["pl", "en", "de"]
Password = Annotated[str, StringConstraints(min_length=10, max_length=1024)]


class AccountCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "anna@example.org",
                    "password": "kolorowe-tramwaje-42",
                    "display_name": "Anna",
                    "lang": "pl",
                }
            ]
        },
    )

    email: EmailStr
    password: Password = Field(description="At least 10 characters.")
    display_name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
        NO_NUL,
    ]
    lang: Language = Field(default="pl", description="Language of notifications.")


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    lang: Language
    created_at: dt.datetime


class TokenRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "anna@example.org", "password": "kolorowe-tramwaje-42"}
            ]
        },
    )

    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenRead(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(
        description="Seconds until the token expires.", examples=[3600]
    )
