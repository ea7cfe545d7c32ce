"""`radar status` tells an operator, in seconds, which part of a running radar is up and how far
behind it is, and exits 1 naming the part that is down.

The four processes run for real on the broker and an SQLite database; `radar status` runs as
the operator would run it, a separate process with the radar's environment. What it probes is
processes and ports, not the database's behaviour: one database suffices."""

from __future__ import annotations

import json
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.bsn import synthetic_bsn
from privacy.credentials import TokenAuthority
from services.settings import Settings
from testkit.processes import RadarSystem, environment, free_port, run_radar, running_radar
from tests.support.ingest import family_signal, police_token
from tests.support.inspection import wait_for
from tests.support.read_models import READ_MODELS

PROCESSES = ("ingest", "query", "aggregator", "projector")
PSEUDONYM_OR_BSN = re.compile(r"(hh|p)\.k\d+\.[0-9a-f]{8}|\b\d{9}\b")
STATUS_SECONDS = 15  # the subprocess's limit: a status that hangs fails the test
ANSWERS_WITHIN_SECONDS = 10  # every probe gives up within ~2 s, in parallel; plus Python starting


def status(radar: RadarSystem, *options: str) -> subprocess.CompletedProcess[str]:
    return run_radar(radar.settings, "status", *options, timeout=STATUS_SECONDS)


def status_json(radar: RadarSystem) -> tuple[int, dict[str, Any]]:
    answered = status(radar, "--json")
    assert answered.returncode in (0, 1), answered.stderr
    return answered.returncode, json.loads(answered.stdout)


def caught_up(radar: RadarSystem) -> bool:
    """Everything up, the signal recorded, and every read model past it."""
    code, found = status_json(radar)
    parts = found["parts"]
    return (
        code == 0
        and parts["database"]["event_store_position"] > 0
        and set(parts["projector"].get("events_behind", {})) == READ_MODELS
        and not any(parts["projector"]["events_behind"].values())
        and all(
            model["position"] > 0
            for name, model in parts["database"]["read_models"].items()
            if name in READ_MODELS
        )
    )


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_status_reports_every_process_up_and_names_the_one_that_is_down(
    settings: Settings,
) -> None:
    police = police_token(TokenAuthority(settings.keys_dir))
    rng = random.Random(22)
    parent, child = synthetic_bsn(rng), synthetic_bsn(rng)
    signal = family_signal(
        "zorgmelding", 3, {"postcode": "3511 AB", "house_number": 22}, parent, child
    )

    with running_radar(settings) as radar:
        accepted = httpx.post(f"{radar.ingest_url}/v1/signals", json=signal, headers=police)
        assert accepted.status_code == 202, accepted.text
        wait_for(lambda: caught_up(radar), 40, "status: all up and caught up")

        code, found = status_json(radar)
        assert code == 0 and found["ok"] and found["down"] == []
        assert {name: part["state"] for name, part in found["parts"].items()} == {
            **dict.fromkeys(PROCESSES, "up"),
            "database": "up",
        }
        assert found["parts"]["ingest"]["kafka"] == "up"
        assert found["parts"]["aggregator"]["consumer_lag"] == 0
        assert found["parts"]["database"]["receipts_format"] >= 1
        assert found["parts"]["database"]["vault_format"] >= 1
        table = status(radar)
        assert table.returncode == 0, table.stdout
        assert table.stdout.rstrip().endswith("all up")
        for name in READ_MODELS:
            assert name in table.stdout

        radar.processes["projector"].kill()
        code, found = status_json(radar)
        assert code == 1
        assert found["down"] == ["projector"]
        assert found["parts"]["projector"]["state"] == "down"
        assert str(radar.settings.projector_metrics_port) in found["parts"]["projector"]["detail"]
        table = status(radar)
        assert table.returncode == 1
        assert table.stdout.rstrip().endswith("down: projector")

        for output in (json.dumps(found), table.stdout, table.stderr):
            assert parent not in output and child not in output
            assert not PSEUDONYM_OR_BSN.search(output), output


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_status_answers_in_seconds_when_nothing_runs_or_a_port_never_answers(
    settings: Settings, tmp_path: Path
) -> None:
    """A process that accepts the connection but never answers (hung) is down within the probe
    timeout; nothing running at all is down too, and probing creates no database file; a
    mutual-TLS ingest API and a metrics port set to 0 are reported, not counted as down."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen()  # the handshake completes in the backlog; nothing ever reads the request
    ports = {
        "RADAR_INGEST_PORT": str(free_port()),
        "RADAR_QUERY_PORT": str(free_port()),
        "RADAR_AGGREGATOR_METRICS_PORT": str(hung.getsockname()[1]),
        "RADAR_PROJECTOR_METRICS_PORT": "0",
        "RADAR_INGEST_TLS_CERT": str(tmp_path / "server.pem"),
        "RADAR_INGEST_CLIENT_CA": str(tmp_path / "client-ca.pem"),
    }
    started = time.monotonic()
    try:
        answered = subprocess.run(
            [sys.executable, "-m", "services.cli", "status", "--json"],
            env=environment(settings, **ports),
            capture_output=True,
            text=True,
            timeout=STATUS_SECONDS,
            check=False,
        )
    finally:
        hung.close()
    assert time.monotonic() - started < ANSWERS_WITHIN_SECONDS, "a hung process hung status"
    assert answered.returncode == 1, answered.stderr
    found = json.loads(answered.stdout)
    assert found["down"] == ["query", "aggregator", "database"]
    states = {name: part["state"] for name, part in found["parts"].items()}
    assert states["ingest"] == states["projector"] == "not probed"
    assert "client certificate" in found["parts"]["ingest"]["detail"]
    assert "ReadTimeout" in found["parts"]["aggregator"]["detail"]
    assert not Path(settings.resolved_database_url.removeprefix("sqlite:///")).exists()
