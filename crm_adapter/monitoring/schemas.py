"""Operator API shapes of cases and of the SLA figures."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_adapter.cases.models import Case, CaseState, DelayTold
from crm_adapter.monitoring.stats import CategoryFigures, Figures, UnitFigures
from shared.contracts import ReportStatus

CASE_EXAMPLE: dict[str, Any] = {
    "id": "0b9f3c1e-6a52-4f0e-9d7a-3c2b1a0f9e8d",
    "report_id": "5b0c7a52-4a86-4c1e-9a6e-0d3f3c8f1a10",
    "report_number": "WRO-2026-000123",
    "category": "pothole",
    "unit": "zdium",
    "connector": "rest_json",
    "state": "created",
    "crm_case_id": "CRM-000042",
    "crm_status": "ASSIGNED",
    "status": "in_progress",
    "submitted_at": "2026-12-01T09:15:00Z",
    "due_at": "2026-12-08T09:15:00Z",
    "overdue": False,
    "closed_at": None,
    "attempts": 1,
    "next_attempt_at": "2026-12-01T09:15:01Z",
    "last_error": None,
    "failing_since": None,
    "delay": None,
    "updated_at": "2026-12-02T07:40:00Z",
    "links": {
        "self": "/admin/cases/0b9f3c1e-6a52-4f0e-9d7a-3c2b1a0f9e8d",
        "deliveries": "/admin/cases/0b9f3c1e-6a52-4f0e-9d7a-3c2b1a0f9e8d/deliveries",
    },
}


class CaseLinks(BaseModel):
    self: str = Field(description="This case.")
    deliveries: str = Field(
        description="The attempts to pass the case and its actions to the CRM."
    )


class CaseRead(BaseModel):
    """A report's case as the adapter tracks it (never the reporter's contact data)."""

    model_config = ConfigDict(json_schema_extra={"examples": [CASE_EXAMPLE]})

    id: uuid.UUID = Field(description="The adapter's id of the case.")
    report_id: uuid.UUID = Field(
        description="Intake's id of the report; the CRM's external reference."
    )
    report_number: str = Field(description="The number the resident was given.")
    category: str = Field(description="Category code.")
    unit: str | None = Field(
        description="Code of the responsible unit; null when no route took it."
    )
    connector: str | None = Field(description="The CRM connector the unit uses.")
    state: CaseState = Field(
        description="Delivery to the CRM: `pending` (waiting or retrying), `created`, "
        "`unroutable` (no route for its category) or `dead` (refused, or out of retries)."
    )
    crm_case_id: str | None = Field(description="The case's id in the CRM, once known.")
    crm_status: str | None = Field(description="The CRM's own status code, unmapped.")
    status: ReportStatus = Field(description="The canonical status residents see.")
    submitted_at: dt.datetime = Field(description="When the resident reported it.")
    due_at: dt.datetime = Field(
        description="When the category's target says it must be resolved: the "
        "`expected_resolution_at` the resident was shown."
    )
    overdue: bool = Field(
        description="Neither resolved nor rejected, and past `due_at` (now)."
    )
    closed_at: dt.datetime | None = Field(
        description="When it was resolved or rejected; null while open or reopened."
    )
    attempts: int = Field(description="Attempts to create it in the CRM so far.")
    next_attempt_at: dt.datetime = Field(
        description="When a pending case is tried again."
    )
    last_error: str | None = Field(
        description="Why the last attempt, or the last CRM change, failed."
    )
    failing_since: dt.datetime | None = Field(
        description="When the first attempt to create it failed, since it was queued or "
        "last replayed; null while none has, and once the CRM has it."
    )
    delay: DelayTold | None = Field(
        description="What its resident was told of its way into the CRM being held up: "
        "`delayed` (failing, or held back by the connector's open breaker, for longer "
        "than `ADAPTER_DELAY_NOTICE_MINUTES`), `dead`; null: nothing, or that it moves "
        "again (it was created, or replayed)."
    )
    updated_at: dt.datetime
    links: CaseLinks

    @classmethod
    def of(cls, case: Case, *, now: dt.datetime) -> CaseRead:
        status = case.status
        path = f"/admin/cases/{case.id}"
        return cls(
            id=case.id,
            report_id=case.report_id,
            report_number=case.report_number,
            category=case.category,
            unit=case.unit_code,
            connector=case.connector,
            state=case.state,
            crm_case_id=case.crm_case_id,
            crm_status=case.crm_status,
            status=status,
            submitted_at=case.submitted_at,
            due_at=case.due_at,
            overdue=not status.is_closed and case.due_at < now,
            closed_at=case.closed_at,
            attempts=case.attempts,
            next_attempt_at=case.next_attempt_at,
            last_error=case.last_error,
            failing_since=case.failing_since,
            delay=case.delay_told,
            updated_at=case.updated_at,
            links=CaseLinks(self=path, deliveries=f"{path}/deliveries"),
        )


class CasePage(BaseModel):
    items: list[CaseRead] = Field(description="Newest first (by submission).")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class FiguresRead(BaseModel):
    received: int = Field(description="Cases submitted in the window.", examples=[120])
    open: int = Field(
        description="Of those, neither resolved nor rejected now (reopened included).",
        examples=[14],
    )
    overdue: int = Field(
        description="Of the open ones, past their due time now.", examples=[3]
    )
    resolved: int = Field(examples=[98])
    rejected: int = Field(examples=[8])
    median_resolution_hours: float | None = Field(
        description="Median time from submission to resolving or rejecting, in hours, "
        "over the closed ones; null when none is closed.",
        examples=[52.5],
    )
    within_target_share: float | None = Field(
        description="Share of the closed ones closed by their due time, 0 to 1; null "
        "when none is closed.",
        examples=[0.87],
    )

    @staticmethod
    def fields_of(figures: Figures) -> dict[str, int | float | None]:
        return {
            "received": figures.received,
            "open": figures.open,
            "overdue": figures.overdue,
            "resolved": figures.resolved,
            "rejected": figures.rejected,
            "median_resolution_hours": figures.median_resolution_hours,
            "within_target_share": figures.within_target_share,
        }


class CategoryFiguresRead(FiguresRead):
    category: str = Field(examples=["pothole"])

    @classmethod
    def of(cls, figures: CategoryFigures) -> CategoryFiguresRead:
        return cls.model_validate(
            {"category": figures.category, **cls.fields_of(figures)}
        )


class UnitFiguresRead(FiguresRead):
    unit: str | None = Field(
        description="The unit's code; null for cases no route took.", examples=["zdium"]
    )
    categories: list[CategoryFiguresRead] = Field(
        description="The same figures per category the unit handled, by code."
    )

    @classmethod
    def of(cls, figures: UnitFigures) -> UnitFiguresRead:
        return cls.model_validate(
            {
                "unit": figures.unit,
                "categories": [CategoryFiguresRead.of(c) for c in figures.categories],
                **cls.fields_of(figures),
            }
        )


class StatsRead(BaseModel):
    since: dt.datetime = Field(description="Start of the window (inclusive).")
    until: dt.datetime = Field(description="End of the window (exclusive).")
    as_of: dt.datetime = Field(description="When open and overdue cases were counted.")
    units: list[UnitFiguresRead] = Field(
        description="Per unit, by code; cases without a unit last."
    )


STATS_CSV_HEADER = [
    "unit",
    "category",
    "received",
    "open",
    "overdue",
    "resolved",
    "rejected",
    "median_resolution_hours",
    "within_target_share",
]

CASES_CSV_HEADER = [
    "case_id",
    "report_id",
    "report_number",
    "category",
    "unit",
    "connector",
    "crm_case_id",
    "crm_status",
    "status",
    "delivery_state",
    "attempts",
    "last_error",
    "failing_since",
    "delay",
    "submitted_at",
    "created_at",
    "due_at",
    "overdue",
    "closed_at",
    "updated_at",
]
"""The columns of `GET /admin/cases.csv`: those of `CaseRead` an operator sorts and counts
by in a sheet (`state` is `delivery_state`, and `created_at` when the adapter took it)."""
