"""`radar run` gives up loudly on a process that cannot start (issue 22): one line naming it
and its exit statuses, while the other processes, and the Kafka broker this run started, stay
up until Ctrl-C; then the broker is stopped too and the run ends with a failure status."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.database import Database
from services.settings import Settings
from testkit.processes import free_port
from tests.chaos.radar_run import RadarRun
from tests.chaos.scenario import KAFKA_SCRIPT
from tests.support.inspection import wait_for

pytestmark = pytest.mark.chaos


def _broker_running(broker_env: dict[str, str]) -> bool:
    status = subprocess.run(
        [str(KAFKA_SCRIPT), "status"], env={**os.environ, **broker_env}, capture_output=True
    )
    return status.returncode == 0


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_process_that_cannot_start_is_given_up_on_and_the_rest_and_the_broker_stay_up(
    database: Database, tmp_path: Path, fault_report: Any
) -> None:
    kafka_port = free_port()
    broker_env = {
        "RADAR_KAFKA_DIR": str(tmp_path / "kafka"),
        "RADAR_KAFKA_PORT": str(kafka_port),
        "RADAR_KAFKA_CONTROLLER_PORT": str(free_port()),
    }
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        kafka_bootstrap=f"127.0.0.1:{kafka_port}",  # the broker this `radar run` starts
        signals_topic=f"test.signals.{uuid.uuid4().hex[:12]}",
        consumer_group=f"test-aggregator-{uuid.uuid4().hex[:8]}",
        ingest_port=free_port(),
        query_port=free_port(),
    )
    squatter = socket.socket()  # the ingest API's port is taken: it exits 1 at every start
    squatter.bind(("127.0.0.1", settings.ingest_port))
    squatter.listen()
    run = RadarRun(settings, ("--broker-script", str(KAFKA_SCRIPT)), broker_env).start()
    try:
        wait_for(lambda: "GAVE UP on ingest" in run.output(), 240, "the supervisor to give up")
        time.sleep(1)  # one more look: nothing else was stopped for it
        gave_up = [line for line in run.output().splitlines() if "GAVE UP" in line]
        assert len(gave_up) == 1, gave_up
        # uvicorn ends with a non-zero status when it cannot bind (3 in uvicorn 0.30+)
        assert re.search(r"ingest: 5 crashes within 120 s \((exit [1-9]\d*(, )?){5}\)", gave_up[0])
        assert "still running: aggregator, projector, query" in gave_up[0]
        assert run.popen is not None and run.popen.poll() is None, "radar run ended"
        assert set(run.children()) == {"aggregator", "projector", "query"}
        assert run.answers("query")
        assert _broker_running(broker_env), "the broker stopped because a process died"
        status = run.stop()
        assert status == 1, "a run that gave up on a process ends with a failure status"
        assert not _broker_running(broker_env), "Ctrl-C leaves the broker this run started"
    finally:
        run.stop()
        squatter.close()
        clean = [str(KAFKA_SCRIPT), "clean"]
        subprocess.run(clean, env={**os.environ, **broker_env}, check=False)
    fault_report.add(
        "`radar run` whose ingest API cannot bind its port (exits non-zero at every start)",
        "given up on after 5 crashes with one line naming it and its exit statuses; aggregator, "
        "projector, query and the broker kept running; SIGTERM then stopped all, broker too, "
        "exit status 1",
    )
