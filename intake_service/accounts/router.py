"""POST /v1/accounts and POST /v1/auth/token."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, status

from intake_service.accounts import service
from intake_service.accounts.exceptions import EmailTaken, InvalidCredentials
from intake_service.accounts.schemas import (
    AccountCreate,
    AccountRead,
    TokenRead,
    TokenRequest,
)
from intake_service.deps import SettingsDep
from shared.deps import SessionDep
from shared.errors import ValidationFailed, problem_responses

router = APIRouter(tags=["accounts"])


@router.post(
    "/v1/accounts",
    status_code=status.HTTP_201_CREATED,
    summary="Create a resident account",
    description="Registers a resident. Reports filed with the account's token are named: the "
    "resident is told about every status change in the language chosen here.",
    responses=problem_responses(EmailTaken, ValidationFailed),
)
async def create_account(session: SessionDep, data: AccountCreate) -> AccountRead:
    return AccountRead.model_validate(await service.register(session, data=data))


@router.post(
    "/v1/auth/token",
    summary="Sign in",
    description="Exchanges e-mail and password for an opaque bearer access token.",
    responses=problem_responses(InvalidCredentials, ValidationFailed),
)
async def create_token(
    session: SessionDep, settings: SettingsDep, data: TokenRequest
) -> TokenRead:
    ttl = dt.timedelta(seconds=settings.access_token_ttl_seconds)
    token = await service.issue_token(session, data=data, ttl=ttl)
    return TokenRead(access_token=token, expires_in=settings.access_token_ttl_seconds)
