"""Results: one row per measured figure, printed as a table and written as JSON."""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path("bench-results")


@dataclass
class Row:
    """One line of the table: our figure, the raw baseline beside it, and the target."""

    stage: str
    figure: float
    unit: str
    baseline: float | None
    ratio: float | None
    target: str
    met: bool | None
    details: dict[str, Any] = field(default_factory=dict)


def throughput_row(
    stage: str, ours: float, baseline: float, minimum_ratio: float, **details: Any
) -> Row:
    ratio = ours / baseline if baseline > 0 else math.nan
    return Row(
        stage=stage,
        figure=ours,
        unit="/s",
        baseline=baseline,
        ratio=ratio,
        target=f"ratio >= {minimum_ratio}",
        met=ratio >= minimum_ratio,
        details=details,
    )


def _number(value: float | None, unit: str = "") -> str:
    if value is None or math.isnan(value):
        return "-"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 10 else f"{value:.1f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if abs(value) >= 100:
        return f"{value:,.0f}{unit}"
    return f"{value:.2f}{unit}"


def table(rows: list[Row]) -> str:
    header = ("stage", "our figure", "raw baseline", "ratio", "target", "met?")
    lines = [
        (
            row.stage,
            _number(row.figure, row.unit),
            _number(row.baseline, row.unit),
            _number(row.ratio),
            row.target,
            {True: "yes", False: "NO", None: "-"}[row.met],
        )
        for row in rows
    ]
    widths = [max(len(str(cells[i])) for cells in [header, *lines]) for i in range(len(header))]

    def render(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([render(header), rule, *(render(cells) for cells in lines)])


def machine(postgres_version: str) -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres_version,
    }


def write(document: dict[str, Any], started: datetime) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    document = {**document, "rows": [asdict(row) for row in document["rows"]]}
    text = json.dumps(document, indent=2, default=str, allow_nan=True)
    path = RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (RESULTS_DIR / "latest.json").write_text(text)
    return path
