"""Applying a CRM's status change to its case: finding the case the change is about (and
never another report's), holding a code with no mapping, keeping an older change as history.

Webhooks and pollers reach this through `crm_adapter.statuses.receive.receive_change`, which
stores each change once and applies it in the same transaction.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.cases import repository as cases
from crm_adapter.cases.models import Case, CaseState
from crm_adapter.cases.service import FORWARDER, emit_status, set_status
from crm_adapter.crm.connector import CrmStatusChange
from crm_adapter.crm.mapping import canonical_status
from crm_adapter.statuses.held import hold_change
from shared import tracing
from shared.contracts import ReportStatus
from shared.db import utcnow
from shared.wakeup import wake_after_commit

logger = logging.getLogger(__name__)


def _report_id(external_ref: str | None) -> uuid.UUID | None:
    """The report id a CRM's reference names, if it names one."""
    try:
        return uuid.UUID((external_ref or "").strip())
    except ValueError:
        return None


class CaseMismatch(Exception):
    """The CRM's case id and the report it names belong to different cases here."""


async def is_ours(
    session: AsyncSession, change: CrmStatusChange, connector: str
) -> bool:
    """Whether the change is about a case of ours at that connector's CRM (a change that
    names our case and another report is: it is kept for an operator)."""
    try:
        return await _find_case(session, change, connector, lock=False) is not None
    except CaseMismatch:
        return True


async def _find_case(
    session: AsyncSession,
    change: CrmStatusChange,
    connector: str,
    *,
    lock: bool = True,
) -> Case | None:
    """This connector's case the change is about (another CRM's numbers may be the same).

    It is the case with the CRM's id; or, when none has it yet (a webhook can beat our own
    record of the case's creation), the case of the report the change names. Where the CRM
    names our report (`external_ref`), the case found must be that report's and know the
    CRM's case by that id or by none yet: a CRM that hands out a number again (restarted,
    restored from a backup, migrated) must never move another report. Otherwise
    CaseMismatch.

    Both are looked for in one statement, so that a case whose creation is recorded while
    the change waits for its lock is seen with the id it got.
    """
    report_id = _report_id(change.external_ref)
    named = await cases.cases_named(
        session, connector, change.case_id, report_id, lock=lock
    )
    by_id = next((c for c in named if c.crm_case_id == change.case_id), None)
    if report_id is None:
        return by_id
    if by_id is not None and by_id.report_id != report_id:
        raise CaseMismatch(
            f"the CRM's case {change.case_id} is report {by_id.report_number} here, "
            f"but the change names report {report_id}"
        )
    case = next((c for c in named if c.report_id == report_id), None)
    if case is not None and case.crm_case_id not in (None, change.case_id):
        raise CaseMismatch(
            f"report {case.report_number} is the CRM's case {case.crm_case_id} here, "
            f"but the change names case {change.case_id}"
        )
    return case


async def apply_crm_change(
    session: AsyncSession, change: CrmStatusChange, connector: str
) -> str | None:
    """Apply the CRM's change to its case, unless it is older than what the case has;
    returns why it was not applied and is kept for an operator, or None.

    A change whose code has no mapping is held (`crm_adapter.statuses`): the case only
    records the raw code. A change of a case that is not ours is left alone: the adapter's
    case row exists before the CRM hears of a report, and every change of it names the
    case by the CRM's id or by the report id. A change whose case id and report disagree
    with ours is applied to neither (`_find_case`).

    The change is applied in the report's trace (the case's), linked to the webhook's or
    the poll's own: the status event it sends intake, and the resident's notification,
    carry the trace the report was filed in.
    """
    try:
        case = await _find_case(session, change, connector)
    except CaseMismatch as mismatch:
        logger.error(
            "case.mismatch",
            extra={
                "connector": connector,
                "crm_case_id": change.case_id,
                "ref": change.external_ref,
                "reason": str(mismatch),
            },
        )
        return str(mismatch)
    if case is None:
        # A case the city filed from a phone call or another system; one naming a report
        # id that has no case here would mean this database lost it, and is worth a look.
        log = logger.warning if _report_id(change.external_ref) else logger.info
        log(
            "case.not_ours",
            extra={
                "connector": connector,
                "crm_case_id": change.case_id,
                "ref": change.external_ref,
            },
        )
        return None
    with tracing.continued(
        case.traceparent, "case.crm_change", attributes={"mam.connector": connector}
    ):
        await _apply_to(session, case, change)
    return None


async def _apply_to(session: AsyncSession, case: Case, change: CrmStatusChange) -> None:
    status = await canonical_status(session, case.connector or "", change.status)
    if status is None:
        # Held for an operator to map, never guessed.
        await hold_change(session, case, change, current=not _stale(case, change))
        return
    if _same(case, change):
        logger.info("case.change_seen", extra={"report_id": str(case.report_id)})
        return
    if _stale(case, change):
        # Made before the change the case shows, sent after it: history, not news.
        note = await _unit_note(session, case, change.note)
        emit_status(
            session, case, note=note, changed_at=change.changed_at, superseded=status
        )
        logger.info("case.superseded_change", extra={"report_id": str(case.report_id)})
        return
    await _apply_newer(session, case, change, status)


async def _apply_newer(
    session: AsyncSession, case: Case, change: CrmStatusChange, status: ReportStatus
) -> None:
    """The case takes the CRM's newer change; intake hears of a new status or note."""
    case.crm_version = change.version or case.crm_version
    case.crm_changed_at = max(
        case.crm_changed_at or change.changed_at, change.changed_at
    )
    case.crm_status = change.status
    case.updated_at = utcnow()
    if case.crm_case_id is None:
        case.crm_case_id = change.case_id
        case.state = CaseState.CREATED
        wake_after_commit(session, FORWARDER)
    # The CRM may quote the reporter's own words back (a reopen's note is their comment):
    # they are not the unit's note, and the CRM confirming our reopen is no news to intake.
    note = await _unit_note(session, case, change.note)
    if status != case.status or note:
        set_status(case, status, at=change.changed_at)
        emit_status(session, case, note=note, changed_at=change.changed_at)


def _same(case: Case, change: CrmStatusChange) -> bool:
    """The version the case shows, sent again under another update id."""
    return change.version is not None and change.version == case.crm_version


def _stale(case: Case, change: CrmStatusChange) -> bool:
    """Older than what the case shows: by the CRM's version where it gives one, else by
    when the CRM made the change (one made at the same moment still applies, in the order
    read)."""
    if change.version is not None:
        return change.version <= case.crm_version
    return case.crm_changed_at is not None and change.changed_at < case.crm_changed_at


async def _unit_note(session: AsyncSession, case: Case, note: str | None) -> str | None:
    """The CRM's note, unless it is only what the case's reporter asked it with."""
    if not note:
        return None
    quoted = await cases.is_reporters_comment(session, case.id, note)
    return None if quoted else note
