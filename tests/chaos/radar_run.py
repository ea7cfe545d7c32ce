"""`radar run` as a test starts it: as `make run` does, a subprocess with the test's settings;
the supervisor's children found through /proc, so a test can SIGKILL one of them."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.settings import Settings, member_name
from testkit.processes import REPO, environment
from tests.support.inspection import wait_for

PROCESSES = ("aggregator", "projector", "ingest", "query")


@dataclass
class RadarRun:
    """`radar run` as a subprocess with the test's settings, its output in the data dir."""

    settings: Settings
    arguments: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None

    @property
    def output_path(self) -> Path:
        return self.settings.data_dir / "run.out"

    def url(self, api: str) -> str:
        port = self.settings.ingest_port if api == "ingest" else self.settings.query_port
        return f"http://127.0.0.1:{port}"

    def start(self) -> RadarRun:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with self.output_path.open("ab") as output:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "run", *self.arguments],
                cwd=REPO,
                env=environment(self.settings, **self.extra_env),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def names(self) -> set[str]:
        """The supervisor's children by name: `aggregator`, `aggregator-2`, ... as configured."""
        counts = {"aggregator": self.settings.aggregators, "ingest": self.settings.ingest_processes}
        return {member_name(kind, i) for kind in PROCESSES for i in range(counts.get(kind, 1))}

    def children(self) -> dict[str, int]:
        """process name -> pid of the supervisor's children now running (from /proc)."""
        assert self.popen is not None
        found: dict[str, int] = {}
        listed = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        for pid in listed.read_text().split():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue  # ended between the two reads
            kind = next((a.decode() for a in argv if a.decode() in PROCESSES), None)
            if kind is not None:
                found[member_name(kind, _index(int(pid)))] = int(pid)
        return found

    def answers(self, api: str) -> bool:
        try:
            return httpx.get(f"{self.url(api)}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_up(self, timeout: float = 60) -> None:
        wait_for(lambda: self.answers("ingest") and self.answers("query"), timeout, "radar run")
        wait_for(lambda: set(self.children()) == self.names, timeout, "every process")

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C would; the exit status of `radar run`."""
        assert self.popen is not None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")


def _index(pid: int) -> int:
    """The RADAR_PROCESS_INDEX `radar run` gave a child (0 if it could not be read)."""
    try:
        variables = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return 0
    marker = b"RADAR_PROCESS_INDEX="
    return next((int(v[len(marker) :]) for v in variables if v.startswith(marker)), 0)
