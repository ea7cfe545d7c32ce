"""`radar run`: starts every radar process on this machine and stops them all on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from services.settings import Settings

STOP_GRACE_SECONDS = 10


@dataclass(frozen=True)
class Process:
    name: str
    command: list[str]


def radar_processes() -> list[Process]:
    """The processes of the whole system, each a `radar` subcommand."""
    radar = [sys.executable, "-m", "services.cli"]
    return [
        Process("aggregator", [*radar, "aggregator"]),
        Process("projector", [*radar, "projector"]),
        Process("ingest", [*radar, "ingest"]),
        Process("query", [*radar, "query"]),
    ]


def supervise(settings: Settings, broker_script: Path | None) -> int:
    """Runs the processes until Ctrl-C or until one dies; then stops everything cleanly,
    the broker too if this run started it (one already running is left running)."""
    owns_broker = False
    if broker_script is not None:
        already_running = subprocess.run(
            [str(broker_script), "status"], capture_output=True, check=False
        )
        owns_broker = already_running.returncode != 0
        subprocess.run([str(broker_script), "start"], check=True)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        for process in radar_processes():
            children[process.name] = subprocess.Popen(process.command, start_new_session=True)
        _announce(settings)
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"radar: {name} exited with {child.returncode}; stopping", flush=True)
                    stopping = True
            time.sleep(0.5)
        return 0
    finally:
        _stop_all(children)
        if broker_script is not None and owns_broker:
            subprocess.run([str(broker_script), "stop"], check=False)


def _announce(settings: Settings) -> None:
    base = f"http://{settings.host}"
    print(
        "\nSignal radar is running (Ctrl-C stops everything):\n"
        f"  ingest API   {base}:{settings.ingest_port}/docs\n"
        f"  query API    {base}:{settings.query_port}/docs\n"
        f"  Kafka        {settings.kafka_bootstrap}  topic {settings.signals_topic}\n"
        f"  database     {settings.resolved_database_url}\n"
        f"  data dir     {settings.data_dir.resolve()}  (keys, logs)\n"
        "  tokens       .venv/bin/radar admin token --help\n",
        flush=True,
    )


def _stop_all(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children.values():
        remaining = max(0.1, deadline - time.monotonic())
        try:
            child.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
