"""The adapter's record of each report's CRM case, and what residents ask of it later."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_adapter.db import Base
from shared.contracts import ReportStatus
from shared.db import StrEnumText
from shared.tracing import TracedMixin


class CaseState(enum.StrEnum):
    PENDING = "pending"  # waiting to be created in the CRM (or retrying)
    CREATED = "created"  # the CRM has it; `crm_case_id` is set
    UNROUTABLE = "unroutable"  # no route for its category: held for an operator
    DEAD = (
        "dead"  # the CRM refused it, or the retry budget ran out: held for an operator
    )


class DelayTold(enum.StrEnum):
    """What intake was told of a case held up on its way into the CRM."""

    # Failing, or held back by its connector's breaker, for too long.
    DELAYED = "delayed"
    # Stopped: an operator must replay it.
    DEAD = "dead"


class Case(TracedMixin, Base):
    """A report's case; `traceparent` is the report's trace, which the pusher and the
    changes the CRM makes continue."""

    __tablename__ = "cases"
    __table_args__ = (
        Index(
            "ix_cases_connector_crm_case_id", "connector", "crm_case_id", unique=True
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # One case per report, whatever happens: the report id is also the CRM's external reference.
    report_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    report_number: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(50), index=True)
    description: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    lat: Mapped[float]
    lon: Mapped[float]
    # Intake's ids of the report's photos, in the resident's order; CRMs get signed links.
    photo_ids: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # The reporter's name, e-mail and language, only with their consent; gone on erasure.
    reporter_contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Operators list cases and read figures by submission time.
    submitted_at: Mapped[dt.datetime] = mapped_column(index=True)
    # When the category's target says it must be resolved (`shared.sla`), as intake told the
    # resident. Overdue is computed from it when asked (open and past it), never stored: a
    # stored flag would need a loop to keep it true and would be stale between its runs.
    due_at: Mapped[dt.datetime] = mapped_column(index=True)
    # When it was closed (resolved or rejected), by the CRM's clock; null while open, cleared
    # on a reopen. A change from one closed status to the other keeps the first closing time.
    closed_at: Mapped[dt.datetime | None]
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    connector: Mapped[str | None] = mapped_column(String(50), index=True)
    # The version of the routing table the case was routed by (or found unroutable under),
    # and the rule of it that matched. No foreign keys: versions are never deleted, and
    # SQLite could add them only by rebuilding this table.
    routing_version: Mapped[int | None]
    routing_rule_id: Mapped[int | None]
    state: Mapped[CaseState] = mapped_column(StrEnumText(CaseState, 20), index=True)
    # Unique per connector (`ix_cases_connector_crm_case_id`): a change the CRM sends for
    # a case id must never reach two reports.
    crm_case_id: Mapped[str | None] = mapped_column(String(100))
    crm_status: Mapped[str | None] = mapped_column(String(50))
    # The CRM's version of the case last applied; an older change never overwrites a newer one.
    crm_version: Mapped[int] = mapped_column(BigInteger, default=0)
    # When the CRM made the change last applied: orders the changes of a CRM that gives no
    # versions (Open311), so a change read late never overwrites a newer one.
    crm_changed_at: Mapped[dt.datetime | None]
    status: Mapped[ReportStatus] = mapped_column(StrEnumText(ReportStatus, 20))
    # Sequence of the last status event sent to intake.
    status_version: Mapped[int] = mapped_column(BigInteger, default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Start of the retry budget (null: created_at): a replay restarts it, and the time the
    # connector's breaker stays open does not count (crm_adapter.deliveries).
    retry_since: Mapped[dt.datetime | None]
    # When its creation's first failed attempt was, since it was queued or replayed; null
    # while none failed, and again once the CRM has it (crm_adapter.deliveries.delays).
    failing_since: Mapped[dt.datetime | None]
    # What intake was last told of the creation being held up; null: nothing, or that it
    # moves again. Each state is told once.
    delay_told: Mapped[DelayTold | None] = mapped_column(StrEnumText(DelayTold, 10))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ActionKind(enum.StrEnum):
    REOPEN = "reopen"  # the reporter says it is not fixed: reopen the CRM case
    COMMENT = "comment"  # the reporter's comment on a case they cannot reopen
    ERASE_CONTACT = (
        "erase_contact"  # the reporter erased their account: forget who they are
    )


class ActionState(enum.StrEnum):
    PENDING = "pending"  # waiting for its turn (the case's creation, earlier actions) or retrying
    DONE = "done"  # the CRM took it
    DEAD = (
        "dead"  # the CRM refused it, or the retry budget ran out: held for an operator
    )


class CaseAction(TracedMixin, Base):
    """A request from the reporter to pass to the CRM case, in the order they came (in its
    request's trace, which the forwarder continues)."""

    __tablename__ = "case_actions"

    # Orders the actions of one case; a case's actions reach the CRM one after the other.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    # Intake's id of the reopen or comment; the CRM's idempotency key for it.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ActionKind] = mapped_column(StrEnumText(ActionKind, 20))
    comment: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    requested_at: Mapped[dt.datetime]
    state: Mapped[ActionState] = mapped_column(StrEnumText(ActionState, 20), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Start of the retry budget (null: created_at): a replay restarts it, and the time the
    # connector's breaker stays open does not count (crm_adapter.deliveries).
    retry_since: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    done_at: Mapped[dt.datetime | None]
