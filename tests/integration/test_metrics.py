"""The metrics in one process, on the real databases: the HTTP APIs name requests by route
template (never by a path holding a pseudonym) and serve /metrics without a token; projection
lag counts the events a read model has not applied; a metrics port in use stops nothing."""

from __future__ import annotations

import socket
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from services import bootstrap, metrics
from services.database import Database
from services.ledger.store import open_ledger
from services.metrics.http import UNMATCHED_ROUTE
from services.projections.projector import Projector
from services.settings import Settings
from tests.support.audit_helpers import household, record, signal

PSEUDONYM = "hh.k1." + "ab" * 16


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
