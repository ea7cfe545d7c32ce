"""Runs radar processes for real (`python -m services.cli <command>`): the one process runner of
the e2e tests, the chaos suite and the benchmarks.

Each process gets the RADAR_* environment of one `Settings` (its own data dir, database, topic,
consumer group and ports), writes its output to a file in that data dir, and is waited for on
`/health/ready`; a process that dies or never gets ready fails with the tail of its output.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.settings import Settings, member_name

REPO = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_SECONDS = 20  # a clean shutdown (closing the consumer, the last commit) fits in it
OUTPUT_TAIL_CHARACTERS = 3000  # enough of a traceback to see where it came from
COMMAND_TIMEOUT_SECONDS = 120  # a one-shot command (audit replay, a key rotation) on test data


def free_port() -> int:
    """A local port nothing listens on now (for a process about to bind it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def checkpoints_topic(settings: Settings) -> str:
    """The topic the test's sealer publishes checkpoints to: one per test, like its signals."""
    return f"{settings.signals_topic}.checkpoints"


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The RADAR_* environment that makes a process use these settings, plus `extra`."""
    env = dict(os.environ)
    env.update(
        RADAR_DATA_DIR=str(settings.data_dir),
        RADAR_DATABASE_URL=settings.resolved_database_url,
        RADAR_VAULT_URL=settings.resolved_vault_url,
        RADAR_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        RADAR_SIGNALS_TOPIC=settings.signals_topic,
        RADAR_CONSUMER_GROUP=settings.consumer_group,
        # each test's sealer publishes its checkpoints to a topic of its own
        RADAR_AUDIT_CHECKPOINTS_TOPIC=checkpoints_topic(settings),
        RADAR_INGEST_PORT=str(settings.ingest_port),
        RADAR_QUERY_PORT=str(settings.query_port),
        RADAR_AGGREGATOR_METRICS_PORT=str(settings.aggregator_metrics_port),
        RADAR_PROJECTOR_METRICS_PORT=str(settings.projector_metrics_port),
        RADAR_INGEST_METRICS_PORT=str(settings.ingest_metrics_port),
        RADAR_AGGREGATORS=str(settings.aggregators),
        RADAR_INGEST_PROCESSES=str(settings.ingest_processes),
        RADAR_AGGREGATOR_BATCH_RECORDS=str(settings.aggregator_batch_records),
        RADAR_ALLOW_PLAIN_IDENTIFIERS=str(settings.allow_plain_identifiers).lower(),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class RadarProcess:
    """One running `radar <command>`; its output goes to a file in the data dir.

    `module` runs `python -m <module>` instead, with the same settings (the bench's query
    server); `extra_env` adds variables to the RADAR_* environment.
    """

    command: str
    settings: Settings
    module: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def name(self) -> str:
        """As `radar run` names it: the command, with its index from the second on."""
        return member_name(self.command, int(self.extra_env.get("RADAR_PROCESS_INDEX", "0")))

    @property
    def output_path(self) -> Path:
        return self.settings.data_dir / f"{self.name}.out"

    @property
    def argv(self) -> list[str]:
        if self.module is not None:
            return [sys.executable, "-m", self.module]
        return [sys.executable, "-m", "services.cli", self.command]

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.command} was not started"
        return self.process.pid

    def start(self) -> RadarProcess:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with self.output_path.open("ab") as output:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=environment(self.settings, **self.extra_env),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not ended within STOP_TIMEOUT_SECONDS."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, characters: int = OUTPUT_TAIL_CHARACTERS) -> str:
        """The end of the process's output, for a failure message ("" if it wrote none)."""
        try:
            return self.output_path.read_text(errors="replace")[-characters:]
        except OSError:
            return ""


def run_radar(
    settings: Settings, *arguments: str, timeout: float = COMMAND_TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[str]:
    """Runs one `radar <arguments>` to its end with these settings; its output captured as text.
    The caller checks the return code (and says what it expected in the message)."""
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *arguments],
        cwd=REPO,
        env=environment(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_until_ready(url: str, process: RadarProcess, timeout: float = 60.0) -> None:
    """Waits for a /health/ready answer of 200; fails with the process output if it never comes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            break
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{process.command} did not become ready:\n{process.tail()}")


@dataclass
class RadarSystem:
    """The whole radar (ingest, aggregator, projector, query) as separate processes."""

    settings: Settings
    processes: dict[str, RadarProcess] = field(default_factory=dict)

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.ingest_port}"

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.query_port}"

    @property
    def metrics_urls(self) -> dict[str, str]:
        """Where each process serves its Prometheus metrics."""
        ports = {
            "ingest": self.settings.ingest_port,
            "query": self.settings.query_port,
            "aggregator": self.settings.aggregator_metrics_port,
            "projector": self.settings.projector_metrics_port,
        }
        return {name: f"http://127.0.0.1:{port}/metrics" for name, port in ports.items()}

    def start(self, *commands: str) -> None:
        """Starts each command as `radar run` would: RADAR_AGGREGATORS aggregators (one
        consumer group) and RADAR_INGEST_PROCESSES ingest processes (one port), named as
        `radar run` names them (`aggregator`, `aggregator-2`, ...)."""
        for command in commands or ("aggregator", "projector", "ingest", "query"):
            for index in range(self.count(command)):
                self.processes[member_name(command, index)] = RadarProcess(
                    command, self.settings, extra_env={"RADAR_PROCESS_INDEX": str(index)}
                ).start()
        if "ingest" in self.processes and (not commands or "ingest" in commands):
            wait_until_ready(self.ingest_url, self.processes["ingest"])
        if "query" in self.processes and (not commands or "query" in commands):
            wait_until_ready(self.query_url, self.processes["query"])

    def count(self, command: str) -> int:
        """How many processes of this command the settings ask for."""
        counts = {"aggregator": self.settings.aggregators, "ingest": self.settings.ingest_processes}
        return counts.get(command, 1)

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()

    def restart(self, name: str) -> RadarProcess:
        """Starts the process of this name (`ingest`, `aggregator-2`) again after a kill, in
        the place of the one that ran (the same command and index)."""
        earlier = self.processes.get(name)
        if earlier is None:
            self.processes[name] = RadarProcess(name, self.settings).start()
        else:
            self.processes[name] = RadarProcess(
                earlier.command, self.settings, earlier.module, dict(earlier.extra_env)
            ).start()
        return self.processes[name]


def on_free_ports(settings: Settings, **changes: Any) -> Settings:
    """The settings with every port a process listens on free (and any other `changes`)."""
    ports = "ingest_port query_port ingest_metrics_port aggregator_metrics_port"
    ports += " projector_metrics_port"
    return settings.model_copy(update={**{name: free_port() for name in ports.split()}, **changes})


@contextmanager
def running_radar(settings: Settings, *commands: str) -> Iterator[RadarSystem]:
    """Starts the whole system (or only `commands`) on free ports and stops it afterwards."""
    system = RadarSystem(on_free_ports(settings))
    try:
        system.start(*commands)
        yield system
    finally:
        system.stop()
