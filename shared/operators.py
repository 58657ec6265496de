"""Operator access: API keys with a role, sent as `X-API-Key`, checked by a dependency.

Operators are city staff and integrators. Each key has a name (who is acting, in the audit
log), a role (`read`, or `manage`, which implies `read`) and is shown once when made: a
service stores only its SHA-256. Where a service keeps its own keys (a table, the settings)
is up to it: it hands `require_operator` a dependency giving an `OperatorKeys`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared import request_ids
from shared.errors import AppError
from shared.i18n import N_

HEADER = "X-API-Key"
KEY_PREFIX = "mam_op_"
"""Operator keys start with it: recognisable in a leaked file or log, and told apart from
Open311 client keys (`OPEN311_KEY_PREFIX`) when one is sent where the other belongs."""
OPEN311_KEY_PREFIX = "mam_o311_"
"""Open311 client keys (`api_key`) start with it."""
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
"""Key names: an identifier such as `zdium-dispatch` or `ops-jan`, never an e-mail address
(names appear in the audit log and in logs)."""


class Role(StrEnum):
    READ = "read"
    """Lists, results and exports."""
    MANAGE = "manage"
    """Everything `read` may, and changes (each one recorded in the audit log)."""

    def allows(self, needed: Role) -> bool:
        return self is Role.MANAGE or needed is Role.READ


def generate_key(prefix: str = KEY_PREFIX) -> str:
    """A new key: 256 random bits, recognisable by its prefix in a leaked file or log."""
    return prefix + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The hex SHA-256 a key is stored and looked up under.

    A plain fast hash is right here, unlike for passwords: a key is 256 random bits, so there
    is no dictionary to try and no salt or slow hash would make guessing any harder, and an
    unsalted hash lets a key be found by an indexed look-up rather than tried against each row.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def _lower_hex(value: str) -> str:
    return value.lower()


class ConfiguredKey(BaseModel):
    """A key given in a service's settings: its name, role and hash (never the key itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)] = Field(
        description="Who acts with the key, as the audit log shows it."
    )
    role: Role = Field(
        default=Role.READ, description="`read` (the default) or `manage`."
    )
    sha256: Annotated[
        str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$"), AfterValidator(_lower_hex)
    ] = Field(description="Hex SHA-256 of the key, e.g. `printf %s KEY | sha256sum`.")


def find_configured(
    keys: Iterable[ConfiguredKey], key_hash: str
) -> ConfiguredKey | None:
    """The configured key with this hash, compared in constant time against every one."""
    found = None
    for key in keys:
        # No early exit: the time taken does not tell which entry (if any) matched.
        if hmac.compare_digest(key.sha256, key_hash):
            found = key
    return found


def duplicate_names(keys: Iterable[ConfiguredKey]) -> set[str]:
    names = [key.name for key in keys]
    return {name for name in names if names.count(name) > 1}


@dataclass(frozen=True)
class Operator:
    """Who is acting: the key's name and role, and the request id if the caller sent one."""

    name: str
    role: Role
    request_id: str | None = None


class OperatorKeys(Protocol):
    """Where a service looks keys up; `find` answers None for an unknown or revoked key."""

    async def find(self, key_hash: str) -> Operator | None: ...


class OperatorNotAuthenticated(AppError):
    status_code = 401
    code = "operator-not-authenticated"
    title = N_("Operator key required")
    detail = N_(
        "Send a valid, unrevoked operator key in the X-API-Key header. Ask the city's IT "
        "team for one."
    )

    def headers(self) -> dict[str, str]:
        # RFC 9110 wants a challenge with every 401; API keys have no standard scheme.
        return {"WWW-Authenticate": "APIKey"}


class Open311KeyNotOperatorKey(OperatorNotAuthenticated):
    detail = N_(
        "This is an Open311 client's api_key (mam_o311_…), not an operator key: send an "
        "operator key (mam_op_…) in the X-API-Key header. Ask the city's IT team for one."
    )


class OperatorRoleMissing(AppError):
    status_code = 403
    code = "operator-role-missing"
    title = N_("Operator role too low")
    detail = N_("This needs an operator key with the role '{role}'.")


api_key_header = APIKeyHeader(
    name=HEADER,
    scheme_name="OperatorKey",
    description="An operator key (`mam_op_…`). Keys have the role `read` (lists, results, "
    "exports) or `manage` (also changes); the city's IT team makes them with "
    "`python -m <service> operator-key create` or lists their hashes in the settings.",
    auto_error=False,
)


def request_id(request: Request) -> str | None:
    """The `X-Request-ID` a proxy or client set, when it looks like one (else None): the
    audit log records the id the caller knows the request by, not one made up for it."""
    return request_ids.sane(request.headers.get(request_ids.HEADER))


def require_operator(
    role: Role, keys: Callable[..., OperatorKeys | Awaitable[OperatorKeys]]
) -> Callable[..., Awaitable[Operator]]:
    """A dependency: the operator whose key came in `X-API-Key`, if their role allows `role`.

    `keys` is a dependency of the service giving its key store. A missing, unknown or revoked
    key is a 401, a key whose role is too low a 403.
    """

    async def operator(
        request: Request,
        key: str | None = Depends(api_key_header),
        store: OperatorKeys = Depends(keys),
    ) -> Operator:
        if not key:
            raise OperatorNotAuthenticated()
        found = await store.find(hash_key(key))
        if found is None:
            if key.startswith(OPEN311_KEY_PREFIX):
                raise Open311KeyNotOperatorKey()
            raise OperatorNotAuthenticated()
        if not found.role.allows(role):
            raise OperatorRoleMissing(role=role.value)
        return Operator(
            name=found.name, role=found.role, request_id=request_id(request)
        )

    return operator
