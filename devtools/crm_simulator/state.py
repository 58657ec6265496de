"""One simulator's state, kept in `app.state.simulator` and handed to the routes by the
`Sim` dependency: its settings, cases, faults, webhook sender and Open311 mode."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import State

from devtools.crm_simulator.config import Settings
from devtools.crm_simulator.faults import FaultState
from devtools.crm_simulator.models import Case, WebhookDelivery
from devtools.crm_simulator.open311_state import Open311State
from devtools.crm_simulator.store import Store
from devtools.crm_simulator.webhooks import Webhooks, webhook_body


class Simulator:
    def __init__(self, settings: Settings, app_state: State) -> None:
        self.settings = settings
        self.store = Store()
        self.faults = FaultState(idempotent_creates=settings.idempotent_creates)
        self.webhooks = Webhooks(settings, self.faults, app_state)
        self.open311 = Open311State(settings)

    def set_status(self, case: Case, status: str, note: str | None) -> None:
        """Change the case's status and send the change as a webhook in the background."""
        update = self.store.change_status(case, status, note)
        if case.channel == "open311":
            return  # Open311 clients poll for changes
        delivery = WebhookDelivery(
            update_id=update.update_id,
            case_id=case.case_id,
            status=status,
            attempts=0,
            delivered=False,
            last_error=None,
        )
        self.store.deliveries[update.update_id] = delivery
        self.webhooks.dispatch(delivery, webhook_body(update))


def simulator(request: Request) -> Simulator:
    """The state of the app serving the request."""
    found: Simulator = request.app.state.simulator
    return found


Sim = Annotated[Simulator, Depends(simulator)]
