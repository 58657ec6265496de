"""A reopen crosses between the real endpoints: intake's event is taken once by the adapter,
whose answer comes back to intake and changes nothing the resident sees twice."""

import contextlib

import httpx
from sqlalchemy import select, update

from crm_adapter.cases.models import Case, CaseAction
from crm_adapter.db import OutboxEvent as AdapterOutbox
from intake_service.db import OutboxEvent as IntakeOutbox
from shared.contracts import Envelope, ReportReopenRequestedV1, ReportStatusChangedV1
from shared.db import make_engine, make_sessionmaker
from shared.relay import OutboxRelay
from shared.retry import Backoff
from shared.signing import Signer
from tests.helpers import POTHOLE, register_and_sign_in
from tests.signed import crm_webhook


@contextlib.asynccontextmanager
async def relay(settings, model, app, secret):
    """The service's relay, delivering to the other service's app in process."""
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        yield (
            sessionmaker,
            OutboxRelay(
                sessionmaker=sessionmaker,
                model=model,
                client=httpx.AsyncClient(transport=httpx.ASGITransport(app=app)),
                url="http://peer/internal/events",
                signer=Signer(secret.get_secret_value()),
                backoff=Backoff(),
            ),
        )
    finally:
        await engine.dispose()


async def test_reopen_reaches_the_adapter_once_and_its_answer_comes_back(
    intake,
    intake_app,
    intake_settings,
    adapter,
    adapter_app,
    adapter_settings,
    adapter_session,
):
    headers = await register_and_sign_in(intake, "anna@example.org")
    created = await intake.post("/v1/reports", json=POTHOLE, headers=headers)
    report_id = created.json()["id"]
    async with (
        relay(
            intake_settings, IntakeOutbox, adapter_app, intake_settings.adapter_secret
        ) as (intake_db, to_adapter),
        relay(
            adapter_settings, AdapterOutbox, intake_app, adapter_settings.intake_secret
        ) as (_, to_intake),
    ):
        assert await to_adapter.run_once() == 1  # report.submitted.v1
        body, signed = crm_webhook(
            case_id="CRM-000001", external_ref=report_id, status="DONE", version=2
        )
        assert (
            await adapter.post("/webhooks/crm", content=body, headers=signed)
        ).status_code == 202
        assert await to_intake.run_once() == 1  # resolved
        assert (await intake.get(f"/v1/reports/{report_id}")).json()[
            "status"
        ] == "resolved"

        answer = await intake.post(
            f"/v1/reports/{report_id}/feedback",
            json={"fixed": False, "rating": 1, "comment": "Nadal jest"},
            headers=headers,
        )
        assert answer.status_code == 201
        assert await to_adapter.run_once() == 1  # report.reopen_requested.v1
        # The acknowledgement is lost: intake's relay sends the reopen again.
        async with intake_db() as session:
            await session.execute(
                update(IntakeOutbox)
                .where(IntakeOutbox.event_type == "report.reopen_requested.v1")
                .values(status="pending")
            )
            await session.commit()
        assert await to_adapter.run_once() == 1
        async with intake_db() as session:
            payloads = (
                await session.scalars(
                    select(IntakeOutbox.payload).order_by(IntakeOutbox.seq)
                )
            ).all()
        reopen = Envelope.model_validate_json(payloads[-1]).event
        assert isinstance(reopen, ReportReopenRequestedV1)

        [action] = (await adapter_session.scalars(select(CaseAction))).all()
        assert (action.id, action.kind, action.comment) == (
            reopen.reopen_id,
            "reopen",
            "Nadal jest",
        )
        case = await adapter_session.scalar(select(Case))
        assert case is not None
        assert case.status == "reopened"
        events = [
            Envelope.model_validate_json(p).event
            for p in (
                await adapter_session.scalars(
                    select(AdapterOutbox.payload).order_by(AdapterOutbox.seq)
                )
            ).all()
        ]
        assert all(isinstance(e, ReportStatusChangedV1) for e in events)
        assert [(e.status, e.reopen_id) for e in events] == [  # type: ignore[union-attr]
            ("resolved", None),
            ("reopened", reopen.reopen_id),
        ]

        assert await to_intake.run_once() == 1  # the answer
    report = (await intake.get(f"/v1/reports/{report_id}")).json()
    assert report["status"] == "reopened"
    assert [h["status"] for h in report["status_history"]] == [
        "received",
        "resolved",
        "reopened",
    ]
