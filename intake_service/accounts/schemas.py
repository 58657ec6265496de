"""Public API shapes of accounts, tokens, codes and the resident's own settings."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from intake_service.accounts.models import Account
from intake_service.accounts.password_policy import (
    MAX_LENGTH,
    MIN_LENGTH,
    password_problem,
)
from shared.fields import omittable
from shared.i18n import Lang
from shared.text import NO_NUL, NOT_BLANK

Password = Annotated[
    str, StringConstraints(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    NO_NUL,
    NOT_BLANK,
]
Code = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{6}$",
        description="The 6 digits from the e-mail.",
        examples=["204816"],
    ),
]
PASSWORD_RULES = (
    f"At least {MIN_LENGTH} characters, not one of the most common passwords, and not "
    "containing the e-mail address's part before the @."
)

# Bodies are strict: `"true"` is not a boolean, `1` is not a text.
_REQUEST = ConfigDict(extra="forbid", strict=True)


def _acceptable(password: str, info: ValidationInfo) -> str:
    problem = password_problem(password, info.data.get("email"))
    if problem is not None:
        raise ValueError(problem)
    return password


class AccountCreate(BaseModel):
    model_config = _REQUEST | ConfigDict(
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

    email: EmailStr = Field(
        description="Where the verification code is sent; the part before the @ keeps its "
        "case, but no other account may differ from it only in case."
    )
    password: Password = Field(description=PASSWORD_RULES)
    display_name: DisplayName
    lang: Lang = Field(
        default=Lang.PL,
        strict=False,  # its text, as JSON has no enums
        description="Language of notifications and e-mails.",
    )

    _password = field_validator("password")(_acceptable)


class NotificationChannels(BaseModel):
    push: bool = Field(description="Push notifications to the resident's devices.")
    email: bool = Field(
        description="E-mails (sent only to a verified address).",
    )


class AccountRead(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    lang: Lang
    email_verified: bool = Field(
        description="Whether the resident confirmed the address with a code. Until then "
        "reports are filed but the resident is told nothing about them."
    )
    notification_channels: NotificationChannels = Field(
        description="Where the resident is told of changes besides the in-app feed, "
        "which is always on."
    )
    created_at: dt.datetime

    @classmethod
    def of(cls, account: Account) -> Self:
        return cls(
            id=account.id,
            email=account.email,
            display_name=account.display_name,
            lang=Lang(account.lang),
            email_verified=account.email_verified_at is not None,
            notification_channels=NotificationChannels(
                push=account.notify_push, email=account.notify_email
            ),
            created_at=account.created_at,
        )


class AccountCreated(AccountRead):
    verification_email_sent: bool = Field(
        description="False when the mail with the code could not be sent now; the account "
        "exists all the same, and `POST /v1/accounts/verification/resend` sends a new code."
    )


class EmailVerification(BaseModel):
    model_config = _REQUEST | ConfigDict(
        json_schema_extra={
            "examples": [{"email": "anna@example.org", "code": "204816"}]
        },
    )

    email: EmailStr
    code: Code


class CodeRequest(BaseModel):
    model_config = _REQUEST | ConfigDict(
        json_schema_extra={"examples": [{"email": "anna@example.org"}]},
    )

    email: EmailStr


class PasswordReset(BaseModel):
    model_config = _REQUEST | ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "anna@example.org",
                    "code": "204816",
                    "new_password": "zielone-rowery-przy-odrze",
                }
            ]
        },
    )

    email: EmailStr
    code: Code
    new_password: Password = Field(description=PASSWORD_RULES)

    _password = field_validator("new_password")(_acceptable)


class TokenRequest(BaseModel):
    model_config = _REQUEST | ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "anna@example.org", "password": "kolorowe-tramwaje-42"}
            ]
        },
    )

    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH)]


class RefreshRequest(BaseModel):
    model_config = _REQUEST | ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "refresh_token": "6f1c0d2e9b8a4c7d8e9f0a1b2c3d4e5f."
                    "Zq3v1o0bVb3r8bN0mJc0n6lq3y2X7b1aK9m0nQ4tR8s"
                }
            ]
        },
    )

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenRead(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(
        description="Seconds until the access token expires.", examples=[900]
    )
    refresh_token: str = Field(
        description="Exchange it for a new pair at `POST /v1/auth/refresh` once, and keep "
        "only the new one: a refresh token used a second time ends the sign-in."
    )
    refresh_expires_in: int = Field(
        description="Seconds until the refresh token expires.", examples=[2592000]
    )


class ChannelsUpdate(BaseModel):
    model_config = _REQUEST

    push: bool = omittable(description="Leave out to keep.")
    email: bool = omittable(description="Leave out to keep.")


class AccountUpdate(BaseModel):
    model_config = _REQUEST | ConfigDict(
        json_schema_extra={
            "examples": [
                {"display_name": "Anna K.", "lang": "de"},
                {"notification_channels": {"email": False}},
            ]
        },
    )

    display_name: DisplayName = omittable(description="Leave out to keep.")
    lang: Lang = omittable(
        strict=False,  # its text, as JSON has no enums
        description="Language of notifications and e-mails; leave out to keep.",
    )
    notification_channels: ChannelsUpdate = omittable(
        description="Only the channels given change."
    )
