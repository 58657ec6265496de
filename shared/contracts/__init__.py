"""Versioned wire contracts between intake and the CRM adapter."""

from shared.contracts.envelope import Envelope, Event
from shared.contracts.reports import (
    GeoPoint,
    ReportCommentAddedV1,
    ReportReopenRequestedV1,
    ReportStatus,
    ReportStatusChangedV1,
    ReportSubmittedV1,
)

__all__ = [
    "Envelope",
    "Event",
    "GeoPoint",
    "ReportCommentAddedV1",
    "ReportReopenRequestedV1",
    "ReportStatus",
    "ReportStatusChangedV1",
    "ReportSubmittedV1",
]
