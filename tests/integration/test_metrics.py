"""The metrics in one process, on the real databases: the HTTP APIs name requests by route
template (never by a path holding a pseudonym) and serve /metrics without a token; the gate
counts its decisions, break-glass uses and notices; the producer counts what Kafka did not
take; projection lag counts the events a read model has not applied; a metrics port in use
stops nothing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from privacy.actors import AnalystRole
from services import bootstrap, metrics
from services.database import Database
from services.ledger.store import open_ledger
from services.metrics.http import UNMATCHED_ROUTE
from services.projections.projector import Projector
from services.settings import Settings
from services.signals.publisher import SignalPublisher
from tests.support.audit_helpers import household, record, signal
from tests.support.ingest import closed_port
from tests.support.privacy_fixtures import (
    HOUSEHOLD,
    HOUSEHOLD_ELSEWHERE,
    QueryHarness,
    query_harness,
)

PSEUDONYM = "hh.k1." + "ab" * 16


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[QueryHarness]:
    yield from query_harness(tmp_path, database)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests_of(api: str, route: str, status_class: str, method: str = "GET") -> float:
    labels = {"api": api, "method": method, "route": route, "status_class": status_class}
    return REGISTRY.get_sample_value("radar_http_requests_total", labels) or 0.0


def test_requests_are_counted_by_route_template_and_metrics_need_no_token(
    tmp_path: Path, sqlite_database: Database
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=sqlite_database.url)
    template = "/v1/households/{household}/timeline"
    before = requests_of("query", template, "4xx")
    unmatched = requests_of("query", UNMATCHED_ROUTE, "4xx")
    odd_method = requests_of("query", "/health/live", "4xx", method="other")
    with TestClient(bootstrap.query_app(settings)) as client:
        assert client.get(f"/v1/households/{PSEUDONYM}/timeline").status_code == 401
        assert client.get(f"/no/such/{PSEUDONYM}").status_code == 404
        assert client.request("PROPFIND", "/health/live").status_code == 405
        scraped = client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert requests_of("query", template, "4xx") == before + 1
    assert requests_of("query", UNMATCHED_ROUTE, "4xx") == unmatched + 1
    assert requests_of("query", "/health/live", "4xx", method="other") == odd_method + 1
    assert PSEUDONYM not in scraped.text and PSEUDONYM[-32:] not in scraped.text
    assert "/metrics" not in bootstrap.query_app(settings).openapi()["paths"]


def test_projection_lag_counts_the_events_a_read_model_has_not_applied(
    database: Database,
) -> None:
    ledger = open_ledger(database)
    models = bootstrap.read_models(database)
    try:
        assert all(metrics.events_behind(ledger.notifications, m) == 0 for m in models)
        record(ledger, [signal(household(n)) for n in range(3)], offset=0)
        behind = {m.name: metrics.events_behind(ledger.notifications, m) for m in models}
        for model in models:
            stored = ledger.notifications.after(0, 1000, model.topics)
            assert behind[model.name] == len(stored), model.name
        assert behind[models[0].name] >= 3  # the timelines show every signal
        for model in models:
            Projector(ledger, model, 1000).catch_up()
        assert all(metrics.events_behind(ledger.notifications, m) == 0 for m in models)
    finally:
        ledger.close()


def test_a_metrics_port_in_use_is_logged_and_stops_nothing() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert metrics.serve("127.0.0.1", port, "aggregator") is False
    assert metrics.serve("127.0.0.1", 0, "aggregator") is False  # 0: off


def test_the_gate_counts_decisions_break_glass_uses_and_notices(harness: QueryHarness) -> None:
    permits = sample("radar_gate_decisions_total", purpose="triage", outcome="permit")
    unstated = sample("radar_gate_decisions_total", purpose="none", outcome="deny")
    glass = sample("radar_gate_break_glass_uses_total")
    notices = sample("radar_gate_notices_total", kind="break_glass")
    triage = harness.headers(AnalystRole.TRIAGE)
    own = harness.client.get(
        f"/v1/households/{HOUSEHOLD}/timeline", params={"purpose": "triage"}, headers=triage
    )
    refused = harness.client.get(f"/v1/households/{HOUSEHOLD}/timeline", headers=triage)
    broken = harness.client.post(
        "/v1/households/timeline",
        json={
            "household": HOUSEHOLD_ELSEWHERE,
            "purpose": "triage",
            "break_glass": True,
            "justification": "Acute danger reported by police tonight; children in the home.",
        },
        headers=triage,
    )
    assert (own.status_code, refused.status_code, broken.status_code) == (200, 403, 200)
    assert sample("radar_gate_decisions_total", purpose="triage", outcome="permit") == permits + 2
    assert sample("radar_gate_decisions_total", purpose="none", outcome="deny") == unstated + 1
    assert sample("radar_gate_break_glass_uses_total") == glass + 1
    assert sample("radar_gate_notices_total", kind="break_glass") == notices + 1


def test_records_kafka_never_acknowledged_are_counted() -> None:
    before = sample("radar_kafka_producer_send_failures_total", reason="unreachable")
    publisher = SignalPublisher(f"127.0.0.1:{closed_port()}", "radar.signals.v1", 1.0)
    try:
        deliveries = publisher.publish([signal(household(1)), signal(household(2))])
    finally:
        publisher.close()
    assert not any(d.acknowledged for d in deliveries)
    assert sample("radar_kafka_producer_send_failures_total", reason="unreachable") == before + 2
