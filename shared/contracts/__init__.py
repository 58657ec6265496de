"""Versioned wire contracts between intake and the CRM adapter."""

from shared.contracts.catalog import (
    CATALOG_AGGREGATE,
    ROUTING_AGGREGATE,
    CatalogCategory,
    CatalogChangedV1,
    Names,
    RoutingChangedV1,
    RoutingUnit,
)
from shared.contracts.envelope import Envelope, Event
from shared.contracts.reports import (
    DEFAULT_RESOLUTION_TARGET,
    GeoPoint,
    ReportCommentAddedV1,
    ReportDeliveryDelayedV1,
    ReporterContact,
    ReporterErasedV1,
    ReportReopenRequestedV1,
    ReportStatus,
    ReportStatusChangedV1,
    ReportSubmittedV1,
    ResolutionTarget,
    without_contact,
)

__all__ = [
    "CATALOG_AGGREGATE",
    "ROUTING_AGGREGATE",
    "CatalogCategory",
    "CatalogChangedV1",
    "Names",
    "ReportDeliveryDelayedV1",
    "RoutingChangedV1",
    "RoutingUnit",
    "DEFAULT_RESOLUTION_TARGET",
    "Envelope",
    "Event",
    "GeoPoint",
    "ReporterContact",
    "ReporterErasedV1",
    "ReportCommentAddedV1",
    "ReportReopenRequestedV1",
    "ReportStatus",
    "ReportStatusChangedV1",
    "ReportSubmittedV1",
    "ResolutionTarget",
    "without_contact",
]
