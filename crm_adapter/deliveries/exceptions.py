"""The problems the deliveries API answers with."""

from __future__ import annotations

from shared.errors import AppError
from shared.i18n import N_


class DeliveryNotFound(AppError):
    status_code = 404
    code = "delivery-not-found"
    title = N_("No such delivery")
    detail = N_("There is no case creation and no action with this id.")


class DeliveryNotDead(AppError):
    status_code = 409
    code = "delivery-not-dead"
    title = N_("Only a dead delivery can be replayed")
    detail = N_(
        "This delivery is {state}: it is delivered already or still being tried."
    )


class ConnectorNotFound(AppError):
    status_code = 404
    code = "connector-not-found"
    title = N_("No such connector")
    detail = N_("There is no CRM connector named {name}.")


class ReplayFilterMissing(AppError):
    status_code = 422
    code = "replay-filter-missing"
    title = N_("Say which dead deliveries to replay")
    detail = N_(
        "Give at least one of report_id, connector, kind, dead_since and dead_until."
    )


class EmptyDeadWindow(AppError):
    status_code = 422
    code = "empty-dead-window"
    title = N_("The time range is empty")
    detail = N_("dead_since must be before dead_until.")
