"""Versioned wire contracts between intake and the CRM adapter."""

from shared.contracts.envelope import Envelope, Event
from shared.contracts.reports import (
    GeoPoint,
    ReportCommentAddedV1,
    ReporterContact,
    ReporterErasedV1,
    ReportReopenRequestedV1,
    ReportStatus,
    ReportStatusChangedV1,
    ReportSubmittedV1,
    without_contact,
)

__all__ = [
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
    "without_contact",
]
