"""Status changes out as signed webhooks (Standard Webhooks): in the background, retried
until the receiver acknowledges them, and sent twice or out of order when the webhook faults
say so."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Coroutine
from typing import Any

import httpx
from starlette.datastructures import State

from devtools.crm_simulator.config import Settings
from devtools.crm_simulator.faults import FaultState, WebhookFaults
from devtools.crm_simulator.models import Update, WebhookDelivery
from shared.signing import Signer

logger = logging.getLogger(__name__)


def webhook_body(update: Update) -> bytes:
    """The change as the webhook carries it."""
    payload = {
        "update_id": update.update_id,
        "case_id": update.case_id,
        "external_ref": update.external_ref,
        "status": update.status,
        "note": update.note,
        "version": update.version,
        "changed_at": update.changed_at.isoformat(),
    }
    return json.dumps(payload).encode()


class Webhooks:
    """The sender. It posts with the HTTP client the app's lifespan puts in `app_state`
    (`client`), read at each delivery."""

    def __init__(
        self, settings: Settings, faults: FaultState, app_state: State
    ) -> None:
        self._settings = settings
        self._signer = Signer(settings.webhook_secret.get_secret_value())
        self._faults = faults
        self._app_state = app_state
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[tuple[WebhookDelivery, bytes]] = []

    async def close(self) -> None:
        """Stop sending: the deliveries under way are given up."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def dispatch(self, delivery: WebhookDelivery, body: bytes) -> None:
        """Send the change now, or hold it back with others (webhook faults)."""
        hooks = self._faults.faults.webhooks
        copies = [(delivery, body)] * (2 if hooks.duplicate else 1)
        if hooks.order == "as_made":
            for copy in copies:
                self._spawn(self._deliver(*copy))
            return
        self._held.extend(copies)
        if len(self._held) == len(copies):
            self._spawn(self._release_held(hooks))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release_held(self, hooks: WebhookFaults) -> None:
        await asyncio.sleep(hooks.hold_seconds)
        batch = self._held[:]
        self._held.clear()
        if hooks.order == "shuffled":
            random.shuffle(batch)
        else:
            batch.reverse()
        for delivery, body in batch:
            await self._deliver(delivery, body)

    async def _deliver(self, delivery: WebhookDelivery, body: bytes) -> None:
        client: httpx.AsyncClient = self._app_state.client
        settings = self._settings
        for attempt in range(1, settings.webhook_attempts + 1):
            delivery.attempts = attempt
            headers = {
                "content-type": "application/json",
                **self._signer.headers(delivery.update_id, body),
            }
            try:
                response = await client.post(
                    settings.webhook_url, content=body, headers=headers
                )
            except Exception as exc:  # whatever failed, a CRM tries again
                delivery.last_error = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    delivery.delivered = True
                    delivery.last_error = None
                    return
                delivery.last_error = f"HTTP {response.status_code}"
            await asyncio.sleep(min(2**attempt * 0.5, 30))
        logger.error("webhook.gave_up", extra={"update_id": delivery.update_id})
