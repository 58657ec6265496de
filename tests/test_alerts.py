"""deploy/prometheus: the alert rules are well formed, each says what to do, and every metric
they name is one the services expose; the configuration scrapes both and loads the rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
CONFIG = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))

DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
SEVERITIES = {"critical", "warning"}
METRIC = re.compile(r"\bmam_[a-z0-9_]+")
SUFFIXES = {"histogram": ("_bucket", "_count", "_sum"), "counter": ("_total",)}
"""The series a family of each type is queried by, besides its own name."""


def rules() -> list[dict[str, Any]]:
    return [rule for group in RULES["groups"] for rule in group["rules"]]


def test_the_rule_file_has_named_groups_of_alerts():
    assert set(RULES) == {"groups"}
    names = [group["name"] for group in RULES["groups"]]
    assert len(names) == len(set(names))
    for group in RULES["groups"]:
        assert set(group) == {"name", "rules"}
        assert group["rules"], group["name"]
    alerts = [rule["alert"] for rule in rules()]
    assert len(alerts) == len(set(alerts))


def test_each_alert_waits_has_a_severity_and_says_what_to_do():
    for rule in rules():
        name = rule["alert"]
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, name
        assert isinstance(rule["expr"], str), name
        assert rule["expr"].strip(), name
        assert DURATION.match(str(rule["for"])), name
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert set(annotations) == {"summary", "description"}, name
        assert annotations["summary"].strip(), name
        assert len(annotations["description"].split()) >= 15, name


def test_the_alerts_an_operator_must_act_on_are_there():
    named = {rule["alert"]: rule["expr"] for rule in rules()}
    watched = {
        "MamTargetDown": "up{",
        "MamHttpErrorsHigh": 'status="5xx"',
        "MamHttpLatencyHigh": "histogram_quantile(0.99",
        "MamOutboxOldestPendingTooOld": "outbox_oldest_pending_age_seconds",
        "MamOutboxBacklogGrowing": 'outbox_events{state="pending"}',
        "MamCrmDeadLetters": 'outcome="dead"',
        "MamNotificationsDead": 'state="dead", channel="email"',
        "MamCrmBreakerOpen": "mam_adapter_breaker_open_seconds",
        "MamInboxMessagesUnhandled": "inbox_unhandled",
        "MamCasesOverdue": "mam_adapter_cases_overdue",
        "MamPhotoWorkersDying": "mam_intake_photo_worker_deaths_total",
        "MamEventLoopLagHigh": "mam_event_loop_lag_seconds_bucket",
    }
    for alert, fragment in watched.items():
        assert fragment in named[alert], alert


def exposed_names(text: str) -> set[str]:
    """The names a scrape offers to a query: each family's, its samples', and those of the
    series of its type (a histogram's buckets, a counter's total) even without samples."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


async def test_every_metric_an_alert_names_is_exposed_by_a_service(intake, adapter):
    # The requests' histogram shows its series once a request was counted.
    for client in (intake, adapter):
        assert (await client.get("/healthz")).status_code == 200
    exposed: set[str] = set()
    for client in (intake, adapter):
        response = await client.get("/metrics")
        assert response.status_code == 200
        exposed |= exposed_names(response.text)
    named = {name for rule in rules() for name in METRIC.findall(rule["expr"])}
    assert len(named) >= 15
    assert named - exposed == set()


def test_prometheus_scrapes_both_services_and_loads_the_rules():
    assert CONFIG["rule_files"] == ["alerts.yml"]
    jobs = {
        job["job_name"]: [
            target for config in job["static_configs"] for target in config["targets"]
        ]
        for job in CONFIG["scrape_configs"]
    }
    assert jobs == {"intake": ["intake:8000"], "adapter": ["adapter:8001"]}
    # The jobs the alerts speak of are the ones scraped.
    target_down = next(r for r in rules() if r["alert"] == "MamTargetDown")
    assert 'job=~"intake|adapter"' in target_down["expr"]
