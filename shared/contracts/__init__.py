"""Versioned wire contracts between intake and the CRM adapter."""

from shared.contracts.envelope import Envelope, Event
from shared.contracts.reports import (
    DEFAULT_RESOLUTION_TARGET,
    GeoPoint,
    ReportCommentAddedV1,
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
