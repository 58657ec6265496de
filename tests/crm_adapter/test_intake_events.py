import uuid

from sqlalchemy import func, select

from crm_adapter.cases.models import Case
from crm_adapter.db import InboxMessage
from tests.signed import submitted_event


async def deliver(adapter, body_and_headers):
    body, headers = body_and_headers
    return await adapter.post("/internal/events", content=body, headers=headers)


class TestReceiveSubmittedReport:
    async def test_routes_the_report_and_queues_one_case(
        self, adapter, adapter_session
    ):
        report_id = uuid.uuid4()
        assert (
            await deliver(adapter, submitted_event("pothole", report_id))
        ).status_code == 202
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert (case.report_id, case.unit_code, case.state) == (
            report_id,
            "zdium",
            "pending",
        )

    async def test_each_default_unit_is_reached(self, adapter, adapter_session):
        for category in ("overflowing_container", "fallen_tree"):
            await deliver(adapter, submitted_event(category))
        units = set((await adapter_session.scalars(select(Case.unit_code))).all())
        assert units == {"ekosystem", "czk"}

    async def test_a_redelivered_event_opens_no_second_case(
        self, adapter, adapter_session
    ):
        event = submitted_event()
        assert (await deliver(adapter, event)).status_code == 202
        assert (await deliver(adapter, event)).status_code == 202
        assert await adapter_session.scalar(select(func.count()).select_from(Case)) == 1
        assert (
            await adapter_session.scalar(select(func.count()).select_from(InboxMessage))
            == 1
        )

    async def test_a_category_without_route_is_held_not_dropped(
        self, adapter, adapter_session
    ):
        await deliver(adapter, submitted_event("noise_complaint"))
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert case.state == "unroutable"
        assert case.last_error is not None
        assert "noise_complaint" in case.last_error

    async def test_an_unsigned_event_is_refused(self, adapter, adapter_session):
        body, headers = submitted_event()
        headers["webhook-signature"] = "v1,AAAA"
        response = await adapter.post("/internal/events", content=body, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert await adapter_session.scalar(select(func.count()).select_from(Case)) == 0
