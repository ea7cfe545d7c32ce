"""The cluster shape for the fault scenarios of issue 20: three Kafka brokers from
deploy/cluster/cluster.sh on ports of the test's own, HAProxy in front of two ingest processes,
and the radar's processes as a deployment runs them (two aggregators in one group, projectors
that may run as two copies). Everything on loopback; the cluster's data is removed after."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from services.settings import Settings
from testkit.processes import REPO, RadarProcess, free_port, wait_until_ready

CLUSTER_SCRIPT = REPO / "deploy" / "cluster" / "cluster.sh"
REPLICATION = {"RADAR_SIGNALS_REPLICATION_FACTOR": "3", "RADAR_SIGNALS_MIN_INSYNC_REPLICAS": "2"}


def _port_pair() -> int:
    """A port whose next port is free too (a broker's client and controller listeners)."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two adjacent free ports on 127.0.0.1")


@dataclass(frozen=True)
class KafkaCluster:
    """Three brokers (node ids 1-3), each a controller too."""

    directory: Path
    ports: tuple[int, int, int]

    @property
    def environment(self) -> dict[str, str]:
        return dict(
            os.environ,
            RADAR_CLUSTER_DIR=str(self.directory),
            RADAR_CLUSTER_PORTS=" ".join(map(str, self.ports)),
        )

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def script(self, *arguments: str, environment: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [str(CLUSTER_SCRIPT), *arguments],
            env={**self.environment, **(environment or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"cluster.sh {' '.join(arguments)}: {done.stderr}"
        return done.stdout

    def kill(self, node: int) -> None:
        """SIGKILL of one broker: no clean shutdown, no leadership handed over."""
        self.script("broker", str(node), "kill")

    def stop(self, node: int) -> None:
        self.script("broker", str(node), "stop")

    def start(self, node: int) -> None:
        self.script("broker", str(node), "start")

    def partitions(self, topic: str) -> list[dict[str, Any]]:
        """The topic's partitions as the brokers describe them, in order; none while the
        broker the client asked has just gone (the caller asks again)."""
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10000)
        except KafkaError:
            return []
        try:
            [described] = admin.describe_topics([topic])
            return sorted(described["partitions"], key=lambda p: p["partition_index"])
        except KafkaError:
            return []
        finally:
            admin.close()

    def leader_of(self, topic: str, partition: int = 0) -> int:
        """The node that leads this partition now (-1: none, or no answer)."""
        found = self.partitions(topic)
        return int(found[partition]["leader_id"]) if found else -1

    def in_sync(self, topic: str) -> list[int]:
        """The number of copies in sync of each partition."""
        return [len(p["isr_nodes"]) for p in self.partitions(topic)]


@contextmanager
def kafka_cluster(directory: Path) -> Iterator[KafkaCluster]:
    """Starts three brokers; stops them and removes their data afterwards."""
    cluster = KafkaCluster(directory, (_port_pair(), _port_pair(), _port_pair()))
    try:
        cluster.script("start")
        yield cluster
    finally:
        subprocess.run(
            [str(CLUSTER_SCRIPT), "clean"], env=cluster.environment, check=False, timeout=120
        )


@dataclass
class ClusterRadar:
    """The radar's processes on the cluster: `ingest-1`/`ingest-2` (each on its own port, both
    behind the proxy), `aggregator-1`/`aggregator-2`, `projector-1` (and -2 when asked)."""

    settings: Settings
    cluster: KafkaCluster
    proxy_port: int
    ingest_ports: tuple[int, int]
    processes: dict[str, RadarProcess] = field(default_factory=dict)

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def ingest_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ingest_ports[int(name[-1]) - 1]}"

    def start(self, name: str) -> RadarProcess:
        """Starts (or starts again, after a kill) the process of this name."""
        command = name.rsplit("-", 1)[0]
        settings = self.settings
        if command == "ingest":
            settings = settings.model_copy(
                update={"ingest_port": self.ingest_ports[int(name[-1]) - 1]}
            )
        process = RadarProcess(command, settings, extra_env=dict(REPLICATION)).start()
        self.processes[name] = process
        if command == "ingest":
            wait_until_ready(self.ingest_url(name), process, timeout=120)
        return process

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()

    def proxied_ready(self) -> int:
        """The status of /health/ready through the proxy."""
        return httpx.get(f"{self.proxy_url}/health/ready", timeout=10).status_code


def cluster_settings(tmp_path: Path, database_url: str, cluster: KafkaCluster) -> Settings:
    """One test's settings on the cluster: its own data dir, topic and group; no metrics ports
    (several processes of a kind run side by side)."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        kafka_bootstrap=cluster.bootstrap,
        signals_topic=f"test.cluster.{uuid.uuid4().hex[:12]}",
        consumer_group=f"test-cluster-{uuid.uuid4().hex[:8]}",
        signals_replication_factor=3,
        signals_min_insync_replicas=2,
        aggregator_metrics_port=0,
        projector_metrics_port=0,
        ingest_metrics_port=0,
        query_port=free_port(),
    )


@contextmanager
def radar_on(cluster: KafkaCluster, settings: Settings, *names: str) -> Iterator[ClusterRadar]:
    """The named processes behind HAProxy (its config and pid in the cluster's directory)."""
    radar = ClusterRadar(settings, cluster, free_port(), (free_port(), free_port()))
    proxy = {
        "RADAR_PROXY_INGEST_PORT": str(radar.proxy_port),
        "RADAR_PROXY_QUERY_PORT": str(free_port()),
        "RADAR_PROXY_STATS_PORT": str(free_port()),
        "RADAR_CLUSTER_INGEST_PORTS": " ".join(map(str, radar.ingest_ports)),
        "RADAR_CLUSTER_QUERY_PORTS": str(settings.query_port),
    }
    try:
        for name in names:
            radar.start(name)
        cluster.script("proxy-start", environment=proxy)
        deadline = time.monotonic() + 30
        while radar.proxied_ready() != 200:  # both health checks must pass first (rise 2)
            assert time.monotonic() < deadline, "the proxy found no ready ingest process"
            time.sleep(0.5)
        yield radar
    finally:
        cluster.script("proxy-stop")
        radar.stop()
