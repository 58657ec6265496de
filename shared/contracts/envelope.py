"""The envelope every cross-service event travels in, and the union of all events."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.catalog import CatalogChangedV1, RoutingChangedV1
from shared.contracts.reports import (
    ReportCommentAddedV1,
    ReportDeliveryDelayedV1,
    ReporterErasedV1,
    ReportReopenRequestedV1,
    ReportStatusChangedV1,
    ReportSubmittedV1,
)
from shared.params import Timestamp

Event = Annotated[
    ReportSubmittedV1
    | ReportStatusChangedV1
    | ReportReopenRequestedV1
    | ReportCommentAddedV1
    | ReporterErasedV1
    | ReportDeliveryDelayedV1
    | CatalogChangedV1
    | RoutingChangedV1,
    Field(discriminator="type"),
]


class Envelope(BaseModel):
    """One event with its identity; `id` is the idempotency key the receiver dedupes on."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique event id.")
    occurred_at: Timestamp = Field(description="When the event happened (UTC).")
    source: Literal["intake", "adapter"] = Field(
        description="The service that emitted it."
    )
    event: Event = Field(description="The event itself, discriminated by its `type`.")
