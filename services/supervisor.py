"""`radar run`: starts every radar process on this machine and keeps them running.

A process that dies is restarted with backoff (services/restarts.py); the others never stop
because of it, and neither does the Kafka broker: the ingest API keeps accepting signals into
Kafka while the aggregator is down, and the query API keeps answering (from a read model that
may lag) while the projector is down. Only Ctrl-C or SIGTERM stops everything, and then the
broker too if this run started it (one already running is left running).

A process that keeps crashing is given up on, with one line naming it and its exit statuses;
the rest stay up, because what still runs is still useful (signals accepted into Kafka wait
there for the aggregator). `radar run` then exits 1 when it is stopped, so a script or service
manager sees that something failed; if every process has been given up on there is nothing
left to supervise, and it exits 1 at once. If the supervisor itself dies, even by SIGKILL, its
processes get SIGTERM (Linux), so no orphan holds the ports of the next run.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from services.restarts import CrashHistory, RestartPolicy, describe_status
from services.scrape_targets import write_scrape_targets
from services.settings import Settings, member_name

STOP_GRACE_SECONDS = 10
TICK_SECONDS = 0.2  # how often the supervisor looks at its processes
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class Process:
    name: str
    command: list[str]
    index: int = 0
    """Which of several processes of one kind (RADAR_PROCESS_INDEX in its environment)."""

    @property
    def environment(self) -> dict[str, str]:
        return {**os.environ, "RADAR_PROCESS_INDEX": str(self.index)}


def radar_processes(settings: Settings) -> list[Process]:
    """The processes of the whole system, each a `radar` subcommand: RADAR_AGGREGATORS
    aggregators (one consumer group), RADAR_PROJECTORS projectors, RADAR_INGEST_PROCESSES
    ingest and RADAR_QUERY_PROCESSES query processes (one port, or each its own)."""
    radar = [sys.executable, "-m", "services.cli"]
    counts = {
        "aggregator": settings.aggregators,
        "projector": settings.projectors,
        "ingest": settings.ingest_processes,
        "query": settings.query_processes,
        "deliver": 1,  # the webhooks (services/delivery/)
    }
    return [
        Process(member_name(kind, index), [*radar, kind], index)
        for kind, count in counts.items()
        for index in range(count)
    ]


class Journal:
    """The supervisor's own lines: to stderr for whoever runs `radar run`, and to
    logs/supervisor.log for whoever looks later. They name processes, never data."""

    def __init__(self, logs_dir: Path) -> None:
        logs_dir.mkdir(parents=True, exist_ok=True)
        self._file = logs_dir / "supervisor.log"

    def say(self, line: str) -> None:
        print(f"radar: {line}", file=sys.stderr, flush=True)
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._file.open("a", encoding="utf-8") as log:
            log.write(f"{stamp} {line}\n")


@dataclass
class Child:
    """One supervised process: running, waiting to be restarted, or given up on."""

    process: Process
    history: CrashHistory
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    given_up: bool = False
    restarts: int = 0

    @property
    def name(self) -> str:
        return self.process.name

    def start(self, journal: Journal) -> None:
        # A session of its own: Ctrl-C at the terminal reaches the supervisor only, which then
        # stops the children in order instead of all of them dying at once.
        self.popen = subprocess.Popen(
            self.process.command,
            env=self.process.environment,
            start_new_session=True,
            preexec_fn=functools.partial(_end_with_parent, os.getpid()),
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        if self.restarts:
            journal.say(f"{self.name} restarted (pid {self.popen.pid}, restart {self.restarts})")

    def check(self, now: float, journal: Journal) -> bool:
        """Notices a crash and schedules the restart, or gives up (True: just gave up);
        starts the process again when its restart is due."""
        if self.given_up:
            return False
        if self.popen is not None and (status := self.popen.poll()) is not None:
            self.popen = None
            ran_for = now - self.started_at
            delay = self.history.crashed(now, status, ran_for)
            if delay is None:
                self.given_up = True
                return True
            journal.say(
                f"{self.name} ended ({describe_status(status)}) after {ran_for:.1f} s; "
                f"restarting it in {delay:g} s"
            )
            self.restart_at = now + delay
        if self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            self.start(journal)
        return False


def supervise(settings: Settings, broker_script: Path | None) -> int:
    """Runs the processes until Ctrl-C or SIGTERM, restarting any that dies; then stops them
    all, and the broker if this run started it. 0 if nothing was given up on, else 1."""
    owns_broker = False
    if broker_script is not None:
        already_running = subprocess.run(
            [str(broker_script), "status"], capture_output=True, check=False
        )
        owns_broker = already_running.returncode != 0
        subprocess.run([str(broker_script), "start"], check=True)
    journal = Journal(settings.logs_dir)
    write_scrape_targets(settings)  # deploy/monitoring/prometheus.yml scrapes each process
    children = [Child(p, CrashHistory(RestartPolicy())) for p in radar_processes(settings)]
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        for child in children:
            child.start(journal)
        _announce(settings)
        while not stopping:
            _watch(children, journal)
            if all(child.given_up for child in children):
                journal.say("every process was given up on; stopping")
                break
            time.sleep(TICK_SECONDS)
        return 1 if any(child.given_up for child in children) else 0
    finally:
        _stop_all(children)
        if broker_script is not None and owns_broker:
            subprocess.run([str(broker_script), "stop"], check=False)


def _watch(children: list[Child], journal: Journal) -> None:
    """One look at every child; one loud line for each given up on in this look."""
    now = time.monotonic()
    for child in children:
        if child.check(now, journal):
            others = [c.name for c in children if not c.given_up]
            journal.say(
                f"GAVE UP on {child.name}: {len(child.history.recent)} crashes within "
                f"{child.history.policy.window:g} s ({child.history.statuses()}); not restarting "
                f"it; still running: {', '.join(others) or 'nothing'}; fix the cause "
                "(see its log above and in logs/) and start `radar run` again"
            )


def _end_with_parent(supervisor: int) -> None:
    """In the child, before exec: SIGTERM when the supervisor dies, even by SIGKILL, so no
    orphan keeps the ports and the consumer group of the next `radar run` (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # the supervisor died before the line above
        os.kill(os.getpid(), signal.SIGTERM)


def _announce(settings: Settings) -> None:
    base = f"http://{settings.host}"
    ingest = f"http{'s' if settings.ingest_tls_cert else ''}://{settings.host}"
    mutual = "  (mutual TLS)" if settings.ingest_mutual_tls else ""

    def ports(kind: str) -> str:
        return ", ".join(str(port) for port in settings.metrics_ports(kind))

    def processes(kind: str) -> str:
        count = int(getattr(settings, f"{kind}_processes"))
        if count == 1:
            return ""
        if settings.api_ports == "shared":
            return f" ({count} processes)"
        return f" ({count} processes, on ports {', '.join(map(str, settings.ports_of(kind)))})"

    print(
        "\nSignal radar is running (a process that dies is restarted; Ctrl-C stops everything):\n"
        f"  ingest API   {ingest}:{settings.ingest_port}/docs{mutual}{processes('ingest')}\n"
        f"  query API    {base}:{settings.query_port}/docs{processes('query')}\n"
        f"  pages        {base}:{settings.query_port}/pages  (demo population: radar demo)\n"
        f"  Kafka        {settings.kafka_bootstrap}  topic {settings.signals_topic}\n"
        f"  database     {settings.resolved_database_url}\n"
        f"  data dir     {settings.data_dir.resolve()}  (keys, logs)\n"
        f"  metrics      /metrics on both APIs; on {base}: aggregator {ports('aggregator')}, "
        f"ingest {ports('ingest')}, projector {ports('projector')}\n"
        "  tokens       .venv/bin/radar admin token --help\n",
        flush=True,
    )


def _stop_all(children: list[Child]) -> None:
    running = [child.popen for child in children if child.popen is not None]
    for popen in running:
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for popen in running:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            popen.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
