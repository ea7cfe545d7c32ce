"""RADAR_AGGREGATORS and RADAR_INGEST_PROCESSES: which processes `radar run` starts, and the
metrics port each gets (a clash is refused at start, not found later as a missing target)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.settings import Settings
from services.supervisor import radar_processes


def test_radar_run_starts_the_configured_number_of_each() -> None:
    settings = Settings(aggregators=3, ingest_processes=2)
    processes = radar_processes(settings)
    assert [p.name for p in processes] == [
        "aggregator",
        "aggregator-2",
        "aggregator-3",
        "projector",
        "ingest",
        "ingest-2",
        "query",
        "deliver",
    ]
    assert [p.environment["RADAR_PROCESS_INDEX"] for p in processes] == list("01200100")


def test_each_process_of_a_kind_has_its_own_metrics_port() -> None:
    settings = Settings(aggregators=2, ingest_processes=2)
    assert settings.metrics_ports("aggregator") == [9401, 9411]
    assert settings.metrics_ports("ingest") == [9404, 9414]
    second = settings.model_copy(update={"process_index": 1})
    assert second.own_metrics_port("aggregator") == 9411


def test_overlapping_metrics_ports_are_refused() -> None:
    with pytest.raises(ValidationError, match="metrics ports overlap"):
        Settings(aggregators=2, projector_metrics_port=9411)


def test_a_port_turned_off_stays_off_for_every_process() -> None:
    settings = Settings(aggregators=2, aggregator_metrics_port=0)
    assert settings.metrics_ports("aggregator") == [0, 0]
