"""Prometheus file-based service discovery for the processes `radar run` starts: with
RADAR_AGGREGATORS / RADAR_INGEST_PROCESSES above one, each aggregator and ingest process serves
metrics on its own port (base + 10 x index), so a fixed scrape list would miss the extra ones
or, listing every possible one, report the absent ones down. `radar run` writes one file_sd
file per kind into <data dir>/monitoring/ on start; deploy/monitoring/prometheus.yml reads
them (`file_sd_configs`), and Prometheus picks up a changed file by itself."""

from __future__ import annotations

import json
from pathlib import Path

from services.settings import Settings, member_name

SCRAPED_KINDS = ("aggregator", "ingest")
"""The kinds `radar run` may start several of; the projector and the query API are one each."""


def targets_dir(settings: Settings) -> Path:
    return settings.data_dir / "monitoring"


def scrape_targets(settings: Settings, kind: str) -> list[dict[str, object]]:
    """The file_sd groups of one kind: one target per process, labelled with its member name
    (`aggregator`, `aggregator-2`, ...: the name in the logs and the supervisor's lines)."""
    return [
        {"targets": [f"{settings.host}:{port}"], "labels": {"member": member_name(kind, index)}}
        for index, port in enumerate(settings.metrics_ports(kind))
        if port != 0
    ]


def write_scrape_targets(settings: Settings) -> list[Path]:
    """Writes <data dir>/monitoring/<kind>.json for each kind (replacing it whole: a scrape
    never reads half a file); returns the paths."""
    directory = targets_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in SCRAPED_KINDS:
        path = directory / f"{kind}.json"
        partial = path.with_suffix(".json.tmp")
        partial.write_text(json.dumps(scrape_targets(settings, kind), indent=2) + "\n")
        partial.replace(path)
        written.append(path)
    return written
