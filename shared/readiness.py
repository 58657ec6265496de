"""`GET /readyz`: whether this process can do its work now, for a load balancer or Kubernetes.

`/healthz` says only that the process answers (restart it when it does not); `/readyz` says
whether it should be sent traffic: its database answers, the schema is the one this code was
written for (a process started before `migrate` finished, or left on an old image after a
newer one migrated, is not), its loops are running, and whatever else the service registers
(intake: the photo store takes a photo). Each check is bounded in time, so a hanging
database gives a prompt 503 instead of a probe timeout.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.background import LoopGroup
from shared.errors import AppError
from shared.i18n import N_

Check = Callable[[], Awaitable[None]]
"""Returns when all is well; raises (with a short reason) when it is not."""

CHECK_TIMEOUT_SECONDS = 3.0
"""Each check's limit: probes commonly give up after 1–5 s."""


class NotReady(Exception):
    """A check's failure, with its reason as the message."""


@dataclass
class Readiness:
    """What `/readyz` checks in one process (set up by the service's lifespan)."""

    engine: AsyncEngine
    migrations: Path
    loops: LoopGroup
    checks: Mapping[str, Check] = field(default_factory=dict)
    timeout: float = CHECK_TIMEOUT_SECONDS

    async def run(self) -> dict[str, str]:
        """Every check's outcome: `ok` or the reason it failed, checked side by side."""
        named: dict[str, Check] = {
            "database": self._database,
            "migrations": self._migrations,
            "loops": self._loops,
            **self.checks,
        }
        outcomes = await asyncio.gather(
            *(_bounded(check, self.timeout) for check in named.values())
        )
        return dict(zip(named, outcomes, strict=True))

    async def _database(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def _migrations(self) -> None:
        async with self.engine.connect() as connection:
            found = (
                await connection.execute(
                    text("SELECT version_num FROM alembic_version")
                )
            ).scalars()
            current = frozenset(found)
        expected = await asyncio.to_thread(heads, self.migrations)
        if current != expected:
            raise NotReady(
                f"schema at {', '.join(sorted(current)) or 'nothing'}, "
                f"code expects {', '.join(sorted(expected))}: run migrate"
            )

    async def _loops(self) -> None:
        stopped = self.loops.stopped()
        if stopped:
            raise NotReady(f"stopped: {', '.join(stopped)}")


@functools.cache
def heads(migrations: Path) -> frozenset[str]:
    """The newest revisions of a service's migrations (read once: Alembic is imported here,
    not at start-up)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(migrations)).get_heads())


async def _bounded(check: Check, limit: float) -> str:
    try:
        async with asyncio.timeout(limit):
            await check()
    except TimeoutError:
        return f"no answer within {limit:g} s"
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else ""
        return f"{type(exc).__name__}: {reason}"[:300] if reason else type(exc).__name__
    return "ok"


class NotReadyError(AppError):
    status_code = 503
    code = "not-ready"
    title = N_("Not ready")
    detail = N_("The service cannot do its work just now; `checks` says what fails.")
    RETRY_AFTER_SECONDS = 5

    def __init__(self, checks: dict[str, str]) -> None:
        super().__init__()
        self.checks = checks

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.RETRY_AFTER_SECONDS)}

    def body(self, lang: str) -> dict[str, Any]:
        return {**super().body(lang), "checks": self.checks}


class Ready(BaseModel):
    """Every check passed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {
                        "database": "ok",
                        "migrations": "ok",
                        "loops": "ok",
                        "storage": "ok",
                    },
                }
            ]
        }
    )

    status: Literal["ready"] = Field(description="Always `ready` with a 200.")
    checks: dict[str, str] = Field(
        description="Each check and `ok`: `database` (answers), `migrations` (the schema "
        "is at the code's newest revision), `loops` (every background loop of this process "
        "runs), and the service's own (intake: `storage`, the photo store takes a photo)."
    )


def install(app: FastAPI, readiness: Readiness) -> None:
    """Make `readiness` what this app's `/readyz` checks (called from its lifespan)."""
    app.state.readiness = readiness


async def check_ready(request: Request) -> Ready:
    """The `/readyz` answer: `Ready`, or NotReadyError (a 503 problem naming the failures)."""
    readiness: Readiness = request.app.state.readiness
    checks = await readiness.run()
    if any(outcome != "ok" for outcome in checks.values()):
        raise NotReadyError(checks)
    return Ready(status="ready", checks=checks)
