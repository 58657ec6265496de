"""The simulated CRM's memory: its cases, every status change in order, the webhooks sent
and the idempotency keys of the requests that changed a case."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from devtools.crm_simulator.models import (
    Case,
    CaseCreate,
    CaseStatus,
    HistoryEntry,
    Update,
    WebhookDelivery,
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Store:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.deliveries: dict[str, WebhookDelivery] = {}
        self.updates: list[Update] = []
        # Idempotency keys of the requests that changed a case, and the case each changed.
        self.requests: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def create(self, data: CaseCreate, *, idempotent: bool = False) -> Case:
        async with self._lock:
            if idempotent:
                for existing in self.cases.values():
                    if existing.external_ref == data.external_ref:
                        return existing
            moment = now()
            case = Case(
                case_id=f"CRM-{len(self.cases) + 1:06d}",
                external_ref=data.external_ref,
                title=data.title,
                category=data.category,
                unit=data.unit,
                description=data.description,
                attributes=data.attributes,
                location=data.location,
                reporter=data.reporter,
                photos=data.photos,
                status=CaseStatus.NEW,
                version=1,
                created_at=moment,
                updated_at=moment,
                history=[
                    HistoryEntry(status=CaseStatus.NEW, note=None, changed_at=moment)
                ],
            )
            self.cases[case.case_id] = case
            return case

    def change_status(self, case: Case, status: str, note: str | None) -> Update:
        """Give the case its new status, in its history and in the list of all changes."""
        moment = now()
        case.status = status
        case.version += 1
        case.updated_at = moment
        case.history.append(HistoryEntry(status=status, note=note, changed_at=moment))
        update = Update(
            seq=len(self.updates) + 1,
            update_id=str(uuid.uuid4()),
            case_id=case.case_id,
            external_ref=case.external_ref,
            status=status,
            note=note,
            version=case.version,
            changed_at=moment,
        )
        self.updates.append(update)
        return update

    def first_time(self, case: Case, idempotency_key: str | None) -> bool:
        """False when a request with this key changed the case before."""
        if idempotency_key is None:
            return True
        if self.requests.get(idempotency_key) == case.case_id:
            return False
        self.requests[idempotency_key] = case.case_id
        return True
