"""What the Open311 side keeps besides the cases: its mode (realtime or batch), the tokens of
the requests a batch service has yet to make, and its answers to the updates posted."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat

from devtools.crm_simulator.config import Settings
from devtools.crm_simulator.models import Case, CaseCreate
from devtools.crm_simulator.store import Store


class Mode(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"batch": True, "token_delay_seconds": 0.5}]},
    )

    batch: StrictBool = Field(
        description="POST requests answers a token instead of an id."
    )
    token_delay_seconds: StrictFloat | None = Field(
        default=1.0,
        ge=0,
        description="How long a token stays unresolved; null: until released by hand.",
    )


@dataclass
class _Pending:
    data: CaseCreate
    resolve_at: dt.datetime | None


async def make_case(store: Store, data: CaseCreate) -> Case:
    """A case made through Open311: its changes are read by polling, not sent."""
    case = await store.create(data)
    case.channel = "open311"
    return case


class Open311State:
    def __init__(self, settings: Settings) -> None:
        self.mode = Mode(
            batch=settings.open311_batch,
            token_delay_seconds=settings.open311_token_delay_seconds,
        )
        self.pending: dict[str, _Pending] = {}
        self.resolved: dict[str, str] = {}
        # The client's update ids (`open311-update:…`) and the id each was answered.
        self.update_answers: dict[str, str] = {}

    def hold(self, data: CaseCreate) -> str:
        """A request taken in batch mode: its token, resolved once the delay has passed."""
        token = str(uuid.uuid4())
        delay = self.mode.token_delay_seconds
        resolve_at = (
            None
            if delay is None
            else dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        )
        self.pending[token] = _Pending(data, resolve_at)
        return token

    async def resolve_due(self, store: Store) -> None:
        now = dt.datetime.now(dt.UTC)
        for token, waiting in list(self.pending.items()):
            if waiting.resolve_at is not None and waiting.resolve_at <= now:
                await self.resolve(store, token)

    async def resolve(self, store: Store, token: str) -> None:
        waiting = self.pending.pop(token)
        case = await make_case(store, waiting.data)
        self.resolved[token] = case.case_id

    async def release(self, store: Store) -> int:
        """Resolve every waiting token now; how many there were."""
        count = len(self.pending)
        for token in list(self.pending):
            await self.resolve(store, token)
        return count
