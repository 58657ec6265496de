import datetime as dt
import json
import uuid

import pytest
from pydantic import ValidationError

import shared.contracts
from shared.contracts import (
    CatalogCategory,
    CatalogChangedV1,
    Envelope,
    GeoPoint,
    Names,
    ReportCommentAddedV1,
    ReportDeliveryDelayedV1,
    ReportReopenRequestedV1,
    ReportStatus,
    ReportStatusChangedV1,
    ReportSubmittedV1,
    ResolutionTarget,
    RoutingChangedV1,
    RoutingUnit,
)
from shared.contracts.__main__ import SCHEMA_FILE, render


def test_public_names_are_pinned():
    assert sorted(shared.contracts.__all__) == [
        "CATALOG_AGGREGATE",
        "CatalogCategory",
        "CatalogChangedV1",
        "DEFAULT_RESOLUTION_TARGET",
        "Envelope",
        "Event",
        "GeoPoint",
        "Names",
        "ROUTING_AGGREGATE",
        "ReportCommentAddedV1",
        "ReportDeliveryDelayedV1",
        "ReportReopenRequestedV1",
        "ReportStatus",
        "ReportStatusChangedV1",
        "ReportSubmittedV1",
        "ReporterContact",
        "ReporterErasedV1",
        "ResolutionTarget",
        "RoutingChangedV1",
        "RoutingUnit",
        "without_contact",
    ]


def test_committed_json_schema_is_up_to_date():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), (
        "run `python -m shared.contracts` and commit the schema"
    )


def test_every_field_is_documented():
    for model in (
        ReportSubmittedV1,
        ReportStatusChangedV1,
        ReportReopenRequestedV1,
        ReportCommentAddedV1,
        ReportDeliveryDelayedV1,
        CatalogChangedV1,
        CatalogCategory,
        RoutingChangedV1,
        RoutingUnit,
        Names,
        GeoPoint,
        ResolutionTarget,
    ):
        undocumented = [
            n
            for n, f in model.model_fields.items()
            if n != "type" and not f.description
        ]
        assert undocumented == [], model.__name__


class TestEnvelope:
    def test_round_trip_keeps_the_event_type(self):
        now = dt.datetime.now(dt.UTC)
        envelope = Envelope(
            occurred_at=now,
            source="adapter",
            event=ReportStatusChangedV1(
                report_id=uuid.uuid4(),
                status=ReportStatus.IN_PROGRESS,
                sequence=2,
                changed_at=now,
            ),
        )
        parsed = Envelope.model_validate_json(envelope.model_dump_json())
        assert parsed == envelope
        assert isinstance(parsed.event, ReportStatusChangedV1)

    def test_receivers_ignore_fields_added_later(self):
        now = dt.datetime.now(dt.UTC).isoformat()
        body = (
            f'{{"id": "{uuid.uuid4()}", "occurred_at": "{now}", "source": "intake", "future": 1, "event": '
            f'{{"type": "report.submitted.v1", "report_id": "{uuid.uuid4()}", "number": "WRO-2026-000001", '
            '"category": "pothole", "location": {"lat": 51.1, "lon": 17.0}, "description": "x", '
            f'"submitted_at": "{now}", "photos_count": 2}}}}'
        )
        assert isinstance(Envelope.model_validate_json(body).event, ReportSubmittedV1)

    def test_a_submitted_report_without_a_target_gets_five_working_days(self):
        now = dt.datetime.now(dt.UTC).isoformat()
        body = (
            f'{{"id": "{uuid.uuid4()}", "occurred_at": "{now}", "source": "intake", "event": '
            f'{{"type": "report.submitted.v1", "report_id": "{uuid.uuid4()}", "number": "WRO-2026-000001", '
            '"category": "pothole", "location": {"lat": 51.1, "lon": 17.0}, "description": "x", '
            f'"submitted_at": "{now}"}}}}'
        )
        event = Envelope.model_validate_json(body).event
        assert isinstance(event, ReportSubmittedV1)
        assert event.resolution_target == ResolutionTarget(working_days=5)

    def test_a_target_is_hours_or_working_days_never_both(self):
        assert ResolutionTarget(hours=4).working_days is None
        for wrong in ({}, {"hours": 4, "working_days": 5}, {"hours": 0}):
            with pytest.raises(ValidationError):
                ResolutionTarget.model_validate(wrong)

    def test_the_schema_says_a_target_is_one_of_the_two(self):
        schema = Envelope.model_json_schema()["$defs"]["ResolutionTarget"]
        assert [branch["required"] for branch in schema["oneOf"]] == [
            ["hours"],
            ["working_days"],
        ]

    @pytest.mark.parametrize(
        ("kind", "changes"),
        [
            (ReportStatusChangedV1, {"sequence": "7"}),
            (ReportStatusChangedV1, {"sequence": True}),
            (ReportStatusChangedV1, {"superseded": 0}),
            (ReportCommentAddedV1, {"fixed": 0}),
            (ReportCommentAddedV1, {"rating": "2"}),
            (ReportSubmittedV1, {"location": {"lat": "51.1", "lon": 17.0}}),
            (ReportSubmittedV1, {"resolution_target": {"hours": True}}),
        ],
    )
    def test_numbers_and_booleans_are_of_their_json_type(self, kind, changes):
        """What the schema says is a number or a boolean is one: no "7", 0 or true."""
        now = dt.datetime.now(dt.UTC).isoformat()
        valid = {
            ReportStatusChangedV1: {
                "type": "report.status_changed.v1",
                "report_id": str(uuid.uuid4()),
                "status": "resolved",
                "sequence": 7,
                "changed_at": now,
            },
            ReportCommentAddedV1: {
                "type": "report.comment_added.v1",
                "report_id": str(uuid.uuid4()),
                "comment_id": str(uuid.uuid4()),
                "comment": "Nadal stoi",
                "fixed": False,
                "rating": 2,
                "added_at": now,
            },
            ReportSubmittedV1: {
                "type": "report.submitted.v1",
                "report_id": str(uuid.uuid4()),
                "number": "WRO-2026-000001",
                "category": "pothole",
                "location": {"lat": 51.1, "lon": 17.0},
                "description": "Dziura",
                "submitted_at": now,
            },
        }[kind]
        envelope = {"occurred_at": now, "source": "adapter", "event": valid}
        Envelope.model_validate_json(json.dumps(envelope))
        envelope["event"] = valid | changes
        with pytest.raises(ValidationError):
            Envelope.model_validate_json(json.dumps(envelope))

    def test_a_reopen_request_round_trips_and_older_receivers_read_the_answer(self):
        now = dt.datetime.now(dt.UTC)
        reopen = Envelope(
            occurred_at=now,
            source="intake",
            event=ReportReopenRequestedV1(
                report_id=uuid.uuid4(),
                reopen_id=uuid.uuid4(),
                comment="Nadal jest dziura",
                rating=2,
                after_sequence=3,
                requested_at=now,
            ),
        )
        parsed = Envelope.model_validate_json(reopen.model_dump_json())
        assert parsed == reopen
        assert parsed.event.type == "report.reopen_requested.v1"
        # The answer's `reopen_id` is an optional addition within v1.
        answer = ReportStatusChangedV1(
            report_id=uuid.uuid4(),
            status=ReportStatus.REOPENED,
            sequence=4,
            changed_at=now,
        )
        assert answer.reopen_id is None
