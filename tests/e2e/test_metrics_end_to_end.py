"""Metrics appear on each process and move when signals flow; no label holds a pseudonym.

The whole radar runs as its four processes on the real broker and database; each one's
Prometheus metrics are scraped before and after signals flow through it, as Prometheus would."""

from __future__ import annotations

import random
import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from contracts.bsn import synthetic_bsn
from contracts.pseudonyms import (
    HOUSEHOLD_PREFIX,
    KEY_ID_PATTERN,
    PERSON_PREFIX,
    RECIPIENT_ID_PATTERN,
    RECIPIENT_PREFIX,
)
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from services.settings import Settings
from testkit.processes import RadarSystem, running_radar
from tests.support.ingest import bearer_for, family_signal, police_token
from tests.support.inspection import wait_for
from tests.support.read_models import READ_MODELS

PSEUDONYM = re.compile(
    rf"({HOUSEHOLD_PREFIX}|{PERSON_PREFIX}|{RECIPIENT_PREFIX}\.{RECIPIENT_ID_PATTERN})"
    rf"\.{KEY_ID_PATTERN}\.[0-9a-f]{{32}}"
)
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
BARE_HASH = re.compile(r"[0-9a-f]{32}")  # a pseudonym's hash without its prefix
HOUSEHOLD_ROUTE = "/v1/households/{household}/timeline"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample of one process's /metrics: (name, labels) -> value."""
    answer = httpx.get(url, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include these."""
    wanted = set(labels.items())
    return sum(value for (n, ls), value in samples.items() if n == name and wanted <= ls)


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(ls)[label] for n, ls in samples if n == name and label in dict(ls)}


def scrape_all(radar: RadarSystem) -> dict[str, Samples]:
    return {process: scrape(url) for process, url in radar.metrics_urls.items()}


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_metrics_appear_on_each_process_and_move_when_signals_flow(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADAR_AUDIT_CHECKPOINT_IDLE_SECONDS", "0.5")  # a checkpoint soon
    authority = TokenAuthority(settings.keys_dir)
    police = police_token(authority)
    doctor = bearer_for(
        authority,
        Analyst("vertrouwensarts-1", "vt-utrecht", AnalystRole.CONFIDENTIAL_DOCTOR, "VT09"),  # type: ignore[arg-type]
        Audience.QUERY,
    )
    rng = random.Random(21)
    address = {"postcode": "3511 AB", "house_number": 21}
    parent, child = synthetic_bsn(rng), synthetic_bsn(rng)
    signals = [family_signal("zorgmelding", days, address, parent, child) for days in (9, 5, 2)]
    invalid = {**family_signal("zorgmelding", 1, address, parent, child), "severity": "loud"}

    with running_radar(settings) as radar:
        for process in ("aggregator", "projector"):
            url = radar.metrics_urls[process]
            wait_for(lambda url=url: answers(url), 30, f"the {process}'s metrics")  # type: ignore[misc]
        wait_for(
            lambda: (
                label_values(
                    scrape(radar.metrics_urls["projector"]),
                    "radar_projector_events_behind",
                    "read_model",
                )
                == READ_MODELS
            ),
            30,
            "the projector watching every read model",
        )
        before = scrape_all(radar)

        batch = httpx.post(
            f"{radar.ingest_url}/v1/signals/batch",
            json={"signals": [*signals, signals[0], invalid]},
            headers=police,
        )
        assert batch.status_code == 200, batch.text
        assert (batch.json()["accepted"], batch.json()["duplicates"]) == (3, 1)
        wait_for(
            lambda: (
                total(
                    scrape(radar.metrics_urls["aggregator"]),
                    "radar_aggregator_records_recorded_total",
                )
                >= 3
            ),
            30,
            "the aggregator recording the three signals",
        )
        wait_for(
            lambda: all(
                total(
                    scrape(radar.metrics_urls["projector"]),
                    "radar_projector_events_behind",
                    read_model=name,
                )
                == 0
                for name in READ_MODELS
            ),
            30,
            "the projector caught up",
        )
        timeline = httpx.post(
            f"{radar.query_url}/v1/households/timeline",
            json={"address": address, "purpose": "medical_review"},
            headers=doctor,
        )
        assert timeline.status_code == 200, timeline.text
        assert len(timeline.json()["signals"]) == 3
        household = timeline.json()["household"]
        by_pseudonym = httpx.get(
            f"{radar.query_url}/v1/households/{household}/timeline",
            params={"purpose": "medical_review"},
            headers=doctor,
        )
        no_purpose = httpx.get(
            f"{radar.query_url}/v1/households/{household}/timeline", headers=doctor
        )
        assert (by_pseudonym.status_code, no_purpose.status_code) == (200, 403)
        unauthenticated = httpx.get(radar.metrics_urls["query"])  # no token: no personal data
        assert unauthenticated.status_code == 200
        wait_for(
            lambda: (
                total(scrape(radar.metrics_urls["aggregator"]), "radar_aggregator_consumer_lag")
                == 0
            ),
            10,
            "no consumer lag",
        )
        wait_for(
            lambda: (
                total(
                    scrape(radar.metrics_urls["projector"]),
                    "radar_audit_newest_checkpoint_age_seconds",
                )
                > 0
            ),
            20,
            "a sealed checkpoint",
        )
        after = scrape_all(radar)

    ingest, query = after["ingest"], after["query"]
    moved = {
        outcome: total(ingest, "radar_ingest_signals_total", outcome=outcome, sector="police")
        - total(before["ingest"], "radar_ingest_signals_total", outcome=outcome)
        for outcome in ("accepted", "duplicate", "rejected")
    }
    assert moved == {"accepted": 3, "duplicate": 1, "rejected": 1}
    assert total(ingest, "radar_http_requests_total", route="/v1/signals/batch") == 1
    assert (
        total(ingest, "radar_http_request_duration_seconds_count", route="/v1/signals/batch") == 1
    )

    aggregator = after["aggregator"]
    assert (
        total(aggregator, "radar_aggregator_records_recorded_total")
        - total(before["aggregator"], "radar_aggregator_records_recorded_total")
        == 3
    )
    assert label_values(aggregator, "radar_aggregator_consumer_lag", "topic") == {
        settings.signals_topic
    }

    projector = after["projector"]
    for name in READ_MODELS:
        assert total(projector, "radar_projector_position", read_model=name) > total(
            before["projector"], "radar_projector_position", read_model=name
        ), name
    assert total(projector, "radar_audit_checkpoints_sealed_total") >= 1

    assert total(query, "radar_http_requests_total", route=HOUSEHOLD_ROUTE, status_class="2xx")
    assert total(query, "radar_http_requests_total", route=HOUSEHOLD_ROUTE, status_class="4xx")
    assert total(query, "radar_gate_decisions_total", purpose="medical_review", outcome="permit")
    assert total(query, "radar_gate_decisions_total", purpose="none", outcome="deny") >= 1

    for process, samples in after.items():
        for name, labels in samples:
            for label, value in labels:
                for pattern in (PSEUDONYM, UUID, BARE_HASH):
                    assert not pattern.search(value), f"{process}: {name} {label}={value!r}"
                assert household not in value and "vertrouwensarts-1" not in value
