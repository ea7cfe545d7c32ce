"""The Kubernetes manifests (deploy/k8s) pass their offline validator, and the validator names
the file and the field of what it refuses."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

pytestmark = pytest.mark.unit

K8S = Path(__file__).parents[2] / "deploy" / "k8s"


def _validator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8s_validate", K8S / "validate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_real_manifests_are_valid() -> None:
    ok, failed = _validator().validate(K8S / "base")
    assert failed == []
    assert any("Deployment/radar-ingest: valid" in line for line in ok)
    assert any("KafkaTopic/radar-signals-v1: valid" in line for line in ok)


def _edit(path: Path, kind: str, change: object) -> None:
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    for doc in docs:
        if doc["kind"] == kind:
            change(doc)  # type: ignore[operator]
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def test_a_broken_copy_names_the_file_and_the_field(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("__pycache__"))

    def no_readiness(doc: dict[str, object]) -> None:
        del doc["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]  # type: ignore[index]

    def three(doc: dict[str, object]) -> None:
        doc["spec"]["replicas"] = "three"  # type: ignore[index]

    _edit(copy / "base" / "query.yaml", "Deployment", no_readiness)
    _edit(copy / "operators" / "kafka.yaml", "KafkaTopic", three)

    _ok, failed = _validator().validate(copy / "base", copy / "crds")

    assert any(
        "query.yaml: Deployment/radar-query: spec.template.spec.containers.0.readinessProbe" in line
        for line in failed
    ), failed
    assert any(
        "kafka.yaml: KafkaTopic/radar-signals-v1: spec.replicas:" in line and "three" in line
        for line in failed
    ), failed
    assert len(failed) == 2, failed


def test_a_secret_with_data_in_the_kustomization_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("__pycache__"))
    kustomization = copy / "base" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "  - ../secrets.example.yaml\n")

    _ok, failed = _validator().validate(copy / "base", copy / "crds")

    assert any("Secret/radar-keys: data:" in line for line in failed), failed
