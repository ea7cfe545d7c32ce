"""The yardstick's plots as PNG files: lead-time distributions (radar against the best single
party) and recall and workload against the alert threshold, per model version."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit

import matplotlib.pyplot as plt  # after the backend is chosen
from matplotlib.figure import Figure

from radar.simulation.measures import Spread
from services.yardstick.experiment import THRESHOLDS, ModelRuns

LEAD_TIMES = "lead-times.png"
RECALL = "recall-by-threshold.png"
WORKLOAD = "workload-by-threshold.png"
DPI = 110


def write_plots(results: Sequence[ModelRuns], out: Path) -> list[Path]:
    """Writes the three plots into `out`; returns their paths."""
    return [_lead_times(results, out / LEAD_TIMES), *_curves(results, out)]


def _lead_times(results: Sequence[ModelRuns], path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(7, 4))
    data, labels = [], []
    for model in results:
        best = model.best_party()
        data.append([d for r in model.runs for d in r.radar.lead_days])
        labels.append(f"model {model.version}\nradar")
        data.append([d for r in model.runs for d in r.parties[best].lead_days])
        labels.append(f"model {model.version}\n{best} alone")
    axes.boxplot([d or [0.0] for d in data], tick_labels=labels, showmeans=True)
    axes.set_ylabel("days from first alert to serious harm")
    axes.set_title("Lead time of escalating households alerted in time (all seeds)")
    return _save(figure, path)


def _curves(results: Sequence[ModelRuns], out: Path) -> list[Path]:
    recall, recall_axes = plt.subplots(figsize=(7, 4))
    workload, workload_axes = plt.subplots(figsize=(7, 4))
    for model in results:
        for axes, name in ((recall_axes, "recall"), (workload_axes, "alerts_per_analyst_week")):
            spreads = [
                Spread.of([getattr(r.curve[t], name) for r in model.runs]) for t in THRESHOLDS
            ]
            axes.errorbar(
                THRESHOLDS,
                [s.mean for s in spreads],
                yerr=[s.sd for s in spreads],
                marker="o",
                capsize=3,
                label=f"model {model.version}",
            )
    for score in sorted({model.alert_score for model in results}):
        for axes in (recall_axes, workload_axes):
            axes.axvline(
                score, color="grey", linestyle=":", label=f"the models' alert_score ({score:g})"
            )
    for axes in (recall_axes, workload_axes):
        axes.set_xlabel("alert threshold (score)")
        axes.legend()
    recall_axes.set_ylabel("share of escalating households alerted before harm")
    recall_axes.set_title("Recall against the alert threshold (score rule, mean ± sd)")
    workload_axes.set_ylabel("alerts per analyst per week (whole region)")
    workload_axes.set_title("Workload against the alert threshold (score rule, mean ± sd)")
    return [_save(recall, out / RECALL), _save(workload, out / WORKLOAD)]


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path
