"""Validates the Kubernetes manifests in deploy/k8s offline (`make lint`).

Why this script: no cluster, container engine, kubectl or kustomize binary exists where the radar
is built and tested, yet a typo in a manifest should fail here, not at `kubectl apply`. So it
renders the kustomization itself (the `resources:` of base/kustomization.yaml, following
directories that hold a kustomization of their own) and checks every document:

- core kinds against the Kubernetes OpenAPI schemas bundled with `kubernetes-validate`, strict
  (an unknown field is an error, as with `kubectl apply --validate=strict`);
- the Strimzi and CloudNativePG kinds against their CRDs' openAPIV3Schema, vendored in crds/
  (crds/SOURCES.md says from where), made strict the same way: an object schema that lists its
  properties and does not preserve unknown fields rejects others, as the API server's strict
  field validation does;
- the radar's own rules: every Deployment container has a readiness and a liveness probe and
  resource requests and limits, every Deployment has a PodDisruptionBudget selecting it, and no
  Secret with data is in the kustomization (secrets.example.yaml stays out of it).

It prints one line per validated document and, for every error, "file: kind/name: path: message";
the exit status is 1 when there was any.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

HERE = Path(__file__).resolve().parent
KUBERNETES_VERSION = "1.37.0"
"""The newest Kubernetes whose schemas kubernetes-validate 1.37.0 bundles."""

CRD_SCHEMAS = {
    ("kafka.strimzi.io/v1", "Kafka"): "kafka.schema.json",
    ("kafka.strimzi.io/v1", "KafkaNodePool"): "kafkanodepool.schema.json",
    ("kafka.strimzi.io/v1", "KafkaTopic"): "kafkatopic.schema.json",
    ("postgresql.cnpg.io/v1", "Cluster"): "cluster.schema.json",
}

Document = dict[str, Any]


@dataclass(frozen=True)
class Loaded:
    """One document of the rendered kustomization and the file it came from."""

    file: Path
    doc: Document

    @property
    def label(self) -> str:
        name = self.doc.get("metadata", {}).get("name", "?")
        return f"{self.doc.get('kind', '?')}/{name}"


def render(kustomization_dir: Path) -> list[Loaded]:
    """The documents a kustomization lists, in order (resources only: no patches, generators
    or transformers are used here, and one that appears is refused rather than ignored)."""
    kustomization = yaml.safe_load((kustomization_dir / "kustomization.yaml").read_text())
    unsupported = set(kustomization) - {"apiVersion", "kind", "resources"}
    if unsupported:
        raise ValueError(
            f"{kustomization_dir / 'kustomization.yaml'}: this renderer reads only resources:, "
            f"not {sorted(unsupported)}"
        )
    loaded: list[Loaded] = []
    for entry in kustomization.get("resources", []):
        path = (kustomization_dir / entry).resolve()
        if path.is_dir():
            loaded += render(path)
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                loaded.append(Loaded(path, doc))
    return loaded


def strict(schema: Any) -> Any:
    """The schema with every object that lists its properties closed to others, unless it
    preserves unknown fields (x-kubernetes-preserve-unknown-fields) or sets additionalProperties."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        closed["additionalProperties"] = False
    return closed


def _path(parts: Any) -> str:
    return ".".join(str(part) for part in parts) or "(document)"


def schema_errors(item: Loaded, crds: Path) -> list[str]:
    """The document's errors against its kind's schema (Kubernetes' or its CRD's)."""
    doc = item.doc
    key = (str(doc.get("apiVersion")), str(doc.get("kind")))
    if key in CRD_SCHEMAS:
        schema = strict(json.loads((crds / CRD_SCHEMAS[key]).read_text()))
        validator = jsonschema.Draft7Validator(schema)
        return [
            f"{_path(error.absolute_path)}: {error.message}"
            for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        ]
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [f"(document): no schema for {key[0]} {key[1]}"]
    except kubernetes_validate.ValidationError as error:
        return [f"{_path(error.absolute_path)}: {error.message}"]
    return []


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(key) == value for key, value in wanted.items())


def rule_errors(items: list[Loaded]) -> Iterator[tuple[Loaded, str]]:
    """The radar's own rules: probes and resources, a PDB per Deployment, no Secret data."""
    budgets = [item.doc for item in items if item.doc.get("kind") == "PodDisruptionBudget"]
    for item in items:
        kind = item.doc.get("kind")
        if kind == "Secret" and (item.doc.get("data") or item.doc.get("stringData")):
            yield (
                item,
                "data: a Secret with data in the kustomization (see secrets.example.yaml)",
            )
        if kind != "Deployment":
            continue
        template = item.doc.get("spec", {}).get("template", {})
        labels = template.get("metadata", {}).get("labels", {})
        namespace = item.doc.get("metadata", {}).get("namespace")
        if not any(
            budget.get("metadata", {}).get("namespace") == namespace
            and _selects(budget.get("spec", {}).get("selector", {}), labels)
            for budget in budgets
        ):
            yield (
                item,
                "spec.template.metadata.labels: no PodDisruptionBudget selects this Deployment",
            )
        for index, container in enumerate(template.get("spec", {}).get("containers", [])):
            where = f"spec.template.spec.containers.{index}"
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in container:
                    yield item, f"{where}.{probe}: missing"
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                if not resources.get(part):
                    yield item, f"{where}.resources.{part}: missing"


def validate(kustomization_dir: Path, crds: Path = HERE / "crds") -> tuple[list[str], list[str]]:
    """Renders the kustomization and validates it: (lines for the valid documents, errors)."""
    items = render(kustomization_dir)
    errors: dict[int, list[str]] = {}
    for index, item in enumerate(items):
        errors[index] = schema_errors(item, crds)
    for item, message in rule_errors(items):
        errors[items.index(item)].append(message)
    ok: list[str] = []
    failed: list[str] = []
    for index, item in enumerate(items):
        try:
            shown = item.file.relative_to(Path.cwd())
        except ValueError:
            shown = item.file
        if errors[index]:
            failed += [f"{shown}: {item.label}: {message}" for message in errors[index]]
        else:
            ok.append(f"{shown}: {item.label}: valid")
    return ok, failed


def main() -> int:
    ok, failed = validate(HERE / "base")
    for line in ok:
        print(line)
    for line in failed:
        print(line, file=sys.stderr)
    print(f"deploy/k8s: {len(ok)} documents valid, {len(failed)} errors", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
