"""The monitoring files in deploy/monitoring/ fit the code: the alert rules are well formed
(`make lint` also runs promtool on them), and every metric an alert or a dashboard panel names
is one the radar exports, so no rule silently watches nothing after a rename."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY, generate_latest

import services.metrics.http  # noqa: F401  (registers every radar metric)
from services.scrape_targets import SCRAPED_KINDS, write_scrape_targets
from services.settings import Settings

REPOSITORY = Path(__file__).resolve().parents[2]
MONITORING = REPOSITORY / "deploy" / "monitoring"
METRIC = re.compile(r"\bradar_[a-z0-9_]+")
SUFFIXES = ("_bucket", "_count", "_sum")


def exported_names() -> set[str]:
    """Every metric name the radar's registry declares (HELP/TYPE lines: also empty ones)."""
    text = generate_latest(REGISTRY).decode()
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE radar_")}


def known(name: str, exported: set[str]) -> bool:
    return name in exported or any(
        name.endswith(suffix) and name.removesuffix(suffix) in exported for suffix in SUFFIXES
    )


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_alert_rule_is_complete_and_names_only_exported_metrics() -> None:
    exported = exported_names()
    found = rules()
    assert {rule["alert"] for rule in found} >= {
        "RadarConsumerLagHigh",
        "RadarProjectionLagHigh",
        "RadarHttp5xxRate",
        "RadarAuditCheckpointStale",
    }
    for rule in found:
        assert {"alert", "expr", "for", "labels", "annotations"} <= set(rule), rule
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        unknown = [m for m in METRIC.findall(rule["expr"]) if not known(m, exported)]
        assert unknown == [], f"{rule['alert']} names metrics the radar does not export"


def test_every_dashboard_panel_queries_exported_metrics() -> None:
    exported = exported_names()
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(expressions) >= 10
    for expr in expressions:
        assert METRIC.search(expr), expr
        unknown = [m for m in METRIC.findall(expr) if not known(m, exported)]
        assert unknown == [], f"panel query {expr!r} names metrics the radar does not export"


def test_the_scrape_config_targets_the_ports_make_run_uses() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    static = {
        name: job["static_configs"][0]["targets"][0]
        for name, job in jobs.items()
        if "static_configs" in job
    }
    defaults = Settings()
    assert static == {
        "radar-query": f"127.0.0.1:{defaults.query_port}",
        "radar-projector": f"127.0.0.1:{defaults.projector_metrics_port}",
        "radar-retention": f"127.0.0.1:{defaults.retention_metrics_port}",
    }
    # the kinds `radar run` may start several of: the files it writes, for the default data dir
    for kind in SCRAPED_KINDS:
        [files] = [c["files"] for c in jobs[f"radar-{kind}"]["file_sd_configs"]]
        written = (REPOSITORY / defaults.data_dir / "monitoring" / f"{kind}.json").resolve()
        assert [(MONITORING / f).resolve() for f in files] == [written]
    assert config["rule_files"] == ["alerts.yml"]


def test_radar_run_writes_a_scrape_target_for_every_process_it_starts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, aggregators=3, ingest_processes=2)
    write_scrape_targets(settings)
    found = {
        kind: json.loads((tmp_path / "monitoring" / f"{kind}.json").read_text())
        for kind in SCRAPED_KINDS
    }
    assert found == {
        "aggregator": [
            {"targets": ["127.0.0.1:9401"], "labels": {"member": "aggregator"}},
            {"targets": ["127.0.0.1:9411"], "labels": {"member": "aggregator-2"}},
            {"targets": ["127.0.0.1:9421"], "labels": {"member": "aggregator-3"}},
        ],
        "ingest": [
            {"targets": ["127.0.0.1:9404"], "labels": {"member": "ingest"}},
            {"targets": ["127.0.0.1:9414"], "labels": {"member": "ingest-2"}},
        ],
    }
    # fewer processes next time: the files say so, and a kind without metrics has no target
    write_scrape_targets(Settings(data_dir=tmp_path, ingest_metrics_port=0))
    assert json.loads((tmp_path / "monitoring" / "ingest.json").read_text()) == []
    assert len(json.loads((tmp_path / "monitoring" / "aggregator.json").read_text())) == 1
