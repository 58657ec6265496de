"""Retention: inactive accounts erased, old closed reports detached from people."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from intake_service.accounts.models import Account
from intake_service.db import OutboxEvent
from intake_service.idempotency.models import IdempotencyRecord
from intake_service.photos.models import photo_key
from intake_service.photos.storage import LocalDiskStorage
from intake_service.privacy.retention import run_retention
from intake_service.reports.models import Report, ReportSupporter
from shared.contracts import ReportStatus
from shared.db import make_engine, make_sessionmaker, utcnow
from tests.helpers import PASSWORD, POTHOLE, register_and_sign_in
from tests.images import encode
from tests.signed import status_event

LONG_AGO = utcnow() - dt.timedelta(days=1000)


@pytest.fixture
async def database(intake_settings):
    engine = make_engine(intake_settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def age_account(database, email: str) -> None:
    async with database() as session:
        account = await session.scalar(select(Account).where(Account.email == email))
        account.created_at = LONG_AGO
        account.last_active_at = LONG_AGO
        await session.execute(
            update(Report)
            .where(Report.reporter_id == account.id)
            .values(created_at=LONG_AGO)
        )
        await session.commit()


async def retention(database):
    return await run_retention(
        database, inactive_account_days=730, closed_report_days=365
    )


async def test_inactive_accounts_are_erased_and_active_ones_kept(intake, database):
    sleeper = await register_and_sign_in(intake, "sleeper@example.org")
    await register_and_sign_in(intake, "active@example.org")
    report = (await intake.post("/v1/reports", json=POTHOLE, headers=sleeper)).json()
    await age_account(database, "sleeper@example.org")

    result = await retention(database)

    assert result.accounts_erased == 1
    async with database() as session:
        emails = (await session.scalars(select(Account.email))).all()
        assert emails == ["active@example.org"]
        kept = await session.get(Report, uuid.UUID(report["id"]))
        assert kept is not None
        assert kept.reporter_id is None
    assert (await retention(database)).accounts_erased == 0


async def test_signing_out_is_not_leaving(intake, database):
    """An old account used today, then signed out of, is kept."""
    await register_and_sign_in(intake, "daily@example.org")
    await age_account(database, "daily@example.org")
    token = await intake.post(
        "/v1/auth/token", json={"email": "daily@example.org", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (await intake.post("/v1/auth/logout", headers=headers)).status_code == 204
    assert (await retention(database)).accounts_erased == 0
    again = await intake.post(
        "/v1/auth/token", json={"email": "daily@example.org", "password": PASSWORD}
    )
    assert again.status_code == 200


async def test_old_closed_reports_lose_their_people_and_keep_their_content(
    intake, database
):
    anna = await register_and_sign_in(intake, "anna@example.org")
    ewa = await register_and_sign_in(intake, "ewa@example.org")
    old = (await intake.post("/v1/reports", json=POTHOLE, headers=anna)).json()
    fresh = (await intake.post("/v1/reports", json=POTHOLE, headers=anna)).json()
    await intake.post(f"/v1/reports/{old['id']}/supporters", headers=ewa)
    for report in (old, fresh):
        body, headers = status_event(report["id"], ReportStatus.RESOLVED, 1)
        await intake.post("/internal/events", content=body, headers=headers)
    judged = await intake.post(
        f"/v1/reports/{old['id']}/feedback",
        json={"fixed": True, "rating": 5, "comment": "Szybko i porządnie"},
        headers=anna,
    )
    assert judged.status_code == 201, judged.text
    async with database() as session:
        await session.execute(
            update(Report)
            .where(Report.id == uuid.UUID(old["id"]))
            .values(updated_at=utcnow() - dt.timedelta(days=400), share_contact=True)
        )
        session.add(
            IdempotencyRecord(
                scope="anonymous POST /v1/reports",
                key="stale",
                request_fingerprint="0" * 64,
                response_status=201,
                response_body="{}",
                created_at=LONG_AGO,
                expires_at=LONG_AGO,
            )
        )
        await session.commit()

    result = await retention(database)

    assert (result.reports_anonymized, result.idempotency_records_deleted) == (1, 1)
    mine = (await intake.get("/v1/me/reports", headers=anna)).json()["items"]
    assert [r["id"] for r in mine] == [fresh["id"]]
    # Neither the feed nor the export ties anyone to it any more.
    for resident in (anna, ewa):
        feed = (await intake.get("/v1/me/notifications", headers=resident)).json()
        assert old["id"] not in {n["report_id"] for n in feed["items"]}
    export = (await intake.get("/v1/me/export", headers=anna)).json()
    assert old["id"] not in json.dumps(export)
    public = (await intake.get(f"/v1/reports/{old['id']}")).json()
    assert (public["description"], public["supporters"]) == (POTHOLE["description"], 1)
    async with database() as session:
        linked = await session.scalar(
            select(func.count())
            .select_from(ReportSupporter)
            .where(ReportSupporter.account_id.is_not(None))
        )
        assert linked == 0
        erased = (
            await session.scalars(
                select(OutboxEvent.payload).where(
                    OutboxEvent.event_type == "report.reporter_erased.v1"
                )
            )
        ).all()
    assert [json.loads(p)["event"]["report_id"] for p in erased] == [old["id"]]


async def test_the_command_a_scheduler_runs(intake, database, cli):
    await register_and_sign_in(intake, "sleeper@example.org")
    await age_account(database, "sleeper@example.org")
    status, out, _ = await cli("retention")
    assert status == 0
    assert json.loads(out) == {
        "accounts_erased": 1,
        "reports_anonymized": 0,
        "idempotency_records_deleted": 0,
        "orphan_photos_deleted": 0,
    }


async def test_photo_files_no_report_refers_to_are_swept(intake, intake_app, database):
    store = LocalDiskStorage(intake_app.state.settings.photo_dir)
    kept = (
        await intake.post(
            "/v1/reports",
            files=[
                ("report", (None, json.dumps(POTHOLE), "application/json")),
                ("photos", ("a.png", encode(Image.new("RGB", (40, 30)), "PNG"), "")),
            ],
        )
    ).json()["photos"][0]["id"]
    orphan = uuid.uuid4()
    await store.put(photo_key(orphan), b"\xff\xd8\xff", "image/jpeg")
    await store.put(photo_key(orphan, thumbnail=True), b"\xff\xd8\xff", "image/jpeg")
    tomorrow = utcnow() + dt.timedelta(days=2)

    result = await run_retention(
        database,
        inactive_account_days=730,
        closed_report_days=365,
        photos=store,
        now=tomorrow,
    )

    assert result.orphan_photos_deleted == 2
    assert await store.get(photo_key(orphan)) is None
    assert (await intake.get(f"/v1/photos/{kept}")).status_code == 200
    assert (await intake.get(f"/v1/photos/{kept}?size=thumb")).status_code == 200
