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


def test_behind_a_proxy_each_api_process_has_a_port_of_its_own() -> None:
    settings = Settings(
        ingest_processes=2, query_processes=2, projectors=2, api_ports="own", ingest_port=18081
    )
    assert [p.name for p in radar_processes(settings)].count("query-2") == 1
    assert [p.name for p in radar_processes(settings)].count("projector-2") == 1
    assert settings.ports_of("ingest") == [18081, 18091]
    assert settings.ports_of("query") == [8082, 8092]
    second = settings.model_copy(update={"process_index": 1})
    assert (second.own_api_port("ingest"), second.shares_api_port("ingest")) == (18091, False)
    assert settings.metrics_ports("projector") == [9402, 9412]


def test_on_one_port_the_api_processes_share_it() -> None:
    settings = Settings(ingest_processes=2)
    assert settings.ports_of("ingest") == [8081, 8081]
    assert settings.shares_api_port("ingest") and not settings.shares_api_port("query")
