"""The operators' feedback figures: the numbers, and the endpoint that serves them."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from intake_service.feedback.models import Feedback
from intake_service.feedback.stats import FeedbackFigures, feedback_summary
from shared.contracts import ReportStatus
from shared.db import make_engine, make_sessionmaker
from tests.helpers import POTHOLE, READ, register_and_sign_in
from tests.signed import status_event


async def answered(intake, headers, report, *, unit, status, fixed, rating) -> str:
    """A report filed, closed by `unit` and answered by its reporter; returns its id."""
    created = await intake.post("/v1/reports", json=report, headers=headers)
    assert created.status_code == 201, created.text
    report_id = created.json()["id"]
    for sequence, change in enumerate((ReportStatus.SUBMITTED, status), start=1):
        body, signed = status_event(report_id, change, sequence, unit=unit)
        assert (
            await intake.post("/internal/events", content=body, headers=signed)
        ).status_code == 202
    given = await intake.post(
        f"/v1/reports/{report_id}/feedback",
        json={"fixed": fixed, "rating": rating},
        headers=headers,
    )
    assert given.status_code == 201, given.text
    return str(report_id)


BENCH = POTHOLE | {"category": "damaged_bench"}
CONTAINER = POTHOLE | {
    "category": "overflowing_container",
    "attributes": {"waste_type": "paper"},
}


class TestFeedbackSummary:
    async def test_count_mean_rating_and_share_not_fixed_per_unit_and_category(
        self, intake, intake_settings
    ):
        headers = await register_and_sign_in(intake, "anna@example.org")
        resolved, rejected = ReportStatus.RESOLVED, ReportStatus.REJECTED
        await answered(
            intake,
            headers,
            POTHOLE,
            unit="zdium",
            status=resolved,
            fixed=True,
            rating=5,
        )
        await answered(
            intake,
            headers,
            POTHOLE,
            unit="zdium",
            status=resolved,
            fixed=False,
            rating=1,
        )
        await answered(
            intake, headers, BENCH, unit="zdium", status=rejected, fixed=False, rating=2
        )
        await answered(
            intake,
            headers,
            CONTAINER,
            unit="ekosystem",
            status=rejected,
            fixed=True,
            rating=4,
        )
        old = await answered(
            intake, headers, BENCH, unit="zdium", status=resolved, fixed=True, rating=5
        )

        engine = make_engine(intake_settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                feedback = await session.scalar(
                    select(Feedback).where(Feedback.report_id == uuid.UUID(old))
                )
                assert feedback is not None
                feedback.created_at -= dt.timedelta(days=40)  # before the period
                await session.commit()
                now = dt.datetime.now(dt.UTC)
                summary = await feedback_summary(
                    session,
                    since=now - dt.timedelta(days=30),
                    until=now + dt.timedelta(seconds=1),
                )
                earlier = await feedback_summary(
                    session,
                    since=now - dt.timedelta(days=60),
                    until=now - dt.timedelta(days=30),
                )
                empty = await feedback_summary(
                    session,
                    since=now + dt.timedelta(days=1),
                    until=now + dt.timedelta(days=2),
                )
        finally:
            await engine.dispose()

        ekosystem, zdium = summary.by_unit
        assert ekosystem == FeedbackFigures("ekosystem", 1, 4.0, 0.0)
        assert (zdium.code, zdium.count) == ("zdium", 3)
        assert zdium.average_rating == pytest.approx(8 / 3)
        assert zdium.not_fixed_share == pytest.approx(2 / 3)
        assert summary.by_category == [
            FeedbackFigures("damaged_bench", 1, 2.0, 1.0),
            FeedbackFigures("overflowing_container", 1, 4.0, 0.0),
            FeedbackFigures("pothole", 2, 3.0, 0.5),
        ]
        assert earlier.by_unit == [FeedbackFigures("zdium", 1, 5.0, 0.0)]
        assert earlier.by_category == [FeedbackFigures("damaged_bench", 1, 5.0, 0.0)]
        assert (empty.by_unit, empty.by_category) == ([], [])

    async def test_a_changed_answer_counts_as_changed(self, intake, intake_session):
        headers = await register_and_sign_in(intake, "anna@example.org")
        report_id = await answered(
            intake,
            headers,
            POTHOLE,
            unit="zdium",
            status=ReportStatus.RESOLVED,
            fixed=True,
            rating=5,
        )
        changed = await intake.put(
            f"/v1/reports/{report_id}/feedback",
            json={"fixed": False, "rating": 2},
            headers=headers,
        )
        assert changed.status_code == 200
        now = dt.datetime.now(dt.UTC)
        summary = await feedback_summary(
            intake_session,
            since=now - dt.timedelta(hours=1),
            until=now + dt.timedelta(seconds=1),
        )
        assert summary.by_unit == [FeedbackFigures("zdium", 1, 2.0, 1.0)]

    async def test_the_period_must_be_timezone_aware(self, intake_session):
        with pytest.raises(ValueError, match="timezone-aware"):
            await feedback_summary(
                intake_session,
                since=dt.datetime(2026, 11, 1),
                until=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
            )


class TestFeedbackSummaryEndpoint:
    async def test_operators_read_the_figures_residents_do_not(self, intake):
        headers = await register_and_sign_in(intake, "anna@example.org")
        resolved = ReportStatus.RESOLVED
        await answered(
            intake,
            headers,
            POTHOLE,
            unit="zdium",
            status=resolved,
            fixed=True,
            rating=5,
        )
        await answered(
            intake, headers, BENCH, unit="zdium", status=resolved, fixed=False, rating=2
        )
        url = "/v1/operator/feedback/summary"
        figures = await intake.get(url, headers=READ)
        assert figures.status_code == 200, figures.text
        body = figures.json()
        assert body["by_unit"] == [
            {"code": "zdium", "count": 2, "average_rating": 3.5, "not_fixed_share": 0.5}
        ]
        assert [c["code"] for c in body["by_category"]] == ["damaged_bench", "pothole"]

        later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
        empty = await intake.get(url, params={"since": later}, headers=READ)
        assert empty.json()["by_unit"] == []
        assert (await intake.get(url)).status_code == 401
        assert (await intake.get(url, headers=headers)).status_code == 401
        assert (
            await intake.get(url, params={"since": "0.5"}, headers=READ)
        ).status_code == 422
