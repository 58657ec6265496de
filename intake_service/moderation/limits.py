"""How often residents may flag reports, and who a flag counts as (once per report).

Flags are limited per client address (IPv6 per /64) and, when signed in, per account, in
the window of residents' other writes; the counters are the throttling's, in the database.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Depends

from intake_service.accounts.dependencies import OptionalAccountDep
from intake_service.accounts.models import Account
from intake_service.config import Settings
from intake_service.deps import ClientDep, SettingsDep
from intake_service.throttling.service import Limit, client_subject, limit
from intake_service.write_limits import admit
from shared.deps import SessionDep


def flag_limits(
    settings: Settings, *, client: str, account: Account | None
) -> list[Limit]:
    secret = settings.secret_key.get_secret_value()
    window = settings.throttle_writes_window_seconds
    limits = [
        limit(
            secret,
            "flags-client",
            client_subject(client),
            maximum=settings.throttle_flags_per_client,
            window_seconds=window,
        )
    ]
    if account is not None:
        limits.append(
            limit(
                secret,
                "flags-account",
                str(account.id),
                maximum=settings.throttle_flags_per_account,
                window_seconds=window,
            )
        )
    return limits


def flagger(settings: Settings, *, client: str, account: Account | None) -> str:
    """Who a flag counts as: the account when signed in, else the client address; as a
    keyed hash, which tells nobody who it was."""
    subject = (
        f"account:{account.id}"
        if account is not None
        else f"client:{client_subject(client)}"
    )
    return hmac.new(
        settings.secret_key.get_secret_value().encode(),
        f"abuse-flag:{subject}".encode(),
        hashlib.sha256,
    ).hexdigest()


async def _admit_flag(
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    account: OptionalAccountDep,
) -> None:
    await admit(session, flag_limits(settings, client=client, account=account))


FLAG_LIMITED = Depends(_admit_flag)
"""A route dependency counting the request against the flag limits (429 once used up)."""
